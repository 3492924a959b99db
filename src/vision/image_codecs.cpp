#include "vision/image_codecs.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <atomic>
#include <mutex>
#include <system_error>

#include "codecs/imgcodecs_module_abi.h"
#include "core/error.h"

namespace facecrowd::vision {

// The module's path in the build folder (generated/image_codecs_build_path.cpp, written by CMake).
extern const char* const kImageCodecsBuildPath;

namespace {

struct Module {
  std::filesystem::path path;
  FacecrowdImdecodeFn decode = nullptr;
  FacecrowdImencodeFn encode = nullptr;
};

const char* const kRemedy =
    "it is built with the binary (build/facecrowd-imgcodecs.so) and must lie beside it (the Dockerfile installs "
    "both in /usr/local/lib/facecrowd/): copy it there, or rebuild both with scripts/build.sh";

[[noreturn]] void refuse(const std::filesystem::path& file, const std::string& why) {
  throw Error(ExitCode::kNotFound, "image codecs module '" + file.string() + "' " + why +
                                       "; images cannot be decoded or encoded without it: " + kRemedy);
}

template <typename Fn>
Fn symbol(void* handle, const std::filesystem::path& file, const char* name) {
  dlerror();
  void* s = dlsym(handle, name);
  if (!s) refuse(file, std::string("is not a facecrowd codecs module (no function ") + name + ")");
  return reinterpret_cast<Fn>(s);
}

Module open_module(const std::vector<std::filesystem::path>& candidates) {
  std::error_code ec;
  for (const auto& file : candidates) {
    if (!std::filesystem::exists(file, ec)) continue;
    // RTLD_LOCAL: imgcodecs' dependencies stay out of the global symbol scope the rest of the process uses.
    // RTLD_LAZY, as the libraries were bound when the binary linked imgcodecs: RTLD_NOW would also bind every
    // function of GDAL, GDCM, ... that is never called (the module itself is linked with -z defs).
    std::unique_ptr<void, int (*)(void*)> loaded(dlopen(file.c_str(), RTLD_LAZY | RTLD_LOCAL), dlclose);
    void* handle = loaded.get();  // closed again when the file is refused below
    if (!handle) {
      const char* why = dlerror();
      refuse(file, std::string("cannot be loaded (") + (why ? why : "dlopen failed") +
                       "); when a library is missing, scripts/install-deps.sh installs it");
    }
    auto abi = symbol<FacecrowdImgcodecsAbiVersionFn>(handle, file, kFacecrowdImgcodecsAbiVersionSymbol);
    if (int v = abi(); v != FACECROWD_IMGCODECS_ABI_VERSION)
      refuse(file, "has interface version " + std::to_string(v) + ", this binary needs " +
                       std::to_string(FACECROWD_IMGCODECS_ABI_VERSION) + " (a module of another build)");
    auto opencv = symbol<FacecrowdImgcodecsOpencvVersionFn>(handle, file, kFacecrowdImgcodecsOpencvVersionSymbol);
    if (std::strcmp(opencv(), CV_VERSION) != 0)
      refuse(file, std::string("was built for OpenCV ") + opencv() + ", this binary uses " + CV_VERSION +
                       " (a module of another build)");
    Module m{file, symbol<FacecrowdImdecodeFn>(handle, file, kFacecrowdImdecodeSymbol),
             symbol<FacecrowdImencodeFn>(handle, file, kFacecrowdImencodeSymbol)};
    loaded.release();  // kept open for the process's life
    return m;
  }
  std::string looked;
  for (const auto& file : candidates) looked += (looked.empty() ? "'" : ", '") + file.string() + "'";
  throw Error(ExitCode::kNotFound, "image codecs module " + std::string(kImageCodecsModuleName) +
                                       " not found (looked for " + looked +
                                       "); images cannot be decoded or encoded without it: " + kRemedy);
}

// Loaded once; a failed load is not remembered, so a later call (after the operator installed it) retries.
// (Double-checked with an atomic rather than std::call_once, whose retry after an exception has hung on
// some libstdc++ targets, GCC bug 66146.)
const Module& module() {
  static std::atomic<const Module*> loaded{nullptr};
  static std::mutex mutex;
  if (const Module* m = loaded.load(std::memory_order_acquire)) return *m;
  std::lock_guard lock(mutex);
  if (const Module* m = loaded.load(std::memory_order_relaxed)) return *m;
  const Module* m = new Module(open_module(image_codecs_candidates()));  // never freed: the module stays
  loaded.store(m, std::memory_order_release);
  return *m;
}

[[noreturn]] void rethrow(const FacecrowdCodecFailure& f) {
  throw cv::Exception(f.code, f.err, f.func, f.file, f.line);
}

}  // namespace

std::vector<std::filesystem::path> image_codecs_candidates() {
  std::error_code ec;
  // The kernel gives the executable's real path (symlinks resolved): a link on PATH finds the module beside
  // the file it points to.
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::filesystem::path build(kImageCodecsBuildPath);
  if (ec) return {build};
  std::vector<std::filesystem::path> out{exe.parent_path() / kImageCodecsModuleName};
  // Only a program of this build (tests/, bench/ under the build folder) falls back to the build's module: an
  // installed or copied binary uses the module installed with it, or says it is missing, even while the
  // build folder it came from is still on the machine.
  const std::filesystem::path build_dir = build.parent_path();
  auto [end, unused] = std::mismatch(build_dir.begin(), build_dir.end(), exe.begin(), exe.end());
  if (end == build_dir.end() && out.front() != build) out.push_back(build);
  return out;
}

std::filesystem::path open_image_codecs_module(const std::vector<std::filesystem::path>& candidates) {
  return open_module(candidates).path;
}

std::filesystem::path load_image_codecs() { return module().path; }

cv::Mat imdecode(std::string_view bytes, int flags) {
  const Module& m = module();
  cv::Mat out;
  FacecrowdCodecFailure failure{};
  int r = m.decode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), flags, &out, &failure);
  if (r == kFacecrowdCodecThrew) rethrow(failure);
  return out;  // empty when OpenCV gave no image (kFacecrowdCodecRefused), exactly as OpenCV returned it
}

bool imencode(const std::string& ext, const cv::Mat& image, std::vector<uchar>& out, const std::vector<int>& params) {
  const Module& m = module();
  FacecrowdCodecFailure failure{};
  int r = m.encode(ext.c_str(), &image, params.data(), params.size(), &out, &failure);
  if (r == kFacecrowdCodecThrew) rethrow(failure);
  return r == kFacecrowdCodecOk;
}

}  // namespace facecrowd::vision
