// Gallery search (vision/gallery.h): time per searched face and memory, exact scan vs HNSW, on synthetic
// galleries of 10k and 100k random unit 128-D embeddings (5 per person). Queries are enrolled vectors plus
// noise (like a new photo of an enrolled person), so `recall` (HNSW's best person == the exact scan's) is
// measured on the question the gallery answers. Targets: <= 2 ms per search at 100k, <= 1 GB.
//   /tmp/build/bench/facecrowd_bench --benchmark_filter=Gallery
// Counters: rss_MB = resident memory added by building the gallery (/proc/self/statm, measured once per
// gallery), build_s = time to build it, recall (HNSW only).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <unistd.h>

#include "vision/gallery.h"

namespace {

using facecrowd::vision::Gallery;
using Vec = std::vector<float>;

double rss_mb() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return double(pages_resident) * double(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

Vec normalised(Vec v) {
  double n = 0;
  for (float x : v) n += double(x) * x;
  for (float& x : v) x = float(x / std::sqrt(n));
  return v;
}

Vec random_unit(std::mt19937& rng) {
  std::normal_distribution<float> normal;
  Vec v(128);
  for (float& x : v) x = normal(rng);
  return normalised(v);
}

// A query near `base`: unit-vector distance ~0.3 (a same-person distance in face data).
Vec near(const Vec& base, std::mt19937& rng) {
  std::normal_distribution<float> normal(0, 0.3f / std::sqrt(128.0f));
  Vec v = base;
  for (float& x : v) x += normal(rng);
  return normalised(v);
}

struct Built {
  std::unique_ptr<Gallery> gallery;
  std::vector<Vec> vectors;
  double rss_mb = 0, build_s = 0;
};

// Built once per (size, mode) and kept: building 100k HNSW takes a while.
Built& gallery(size_t n, bool hnsw) {
  static std::map<std::pair<size_t, bool>, Built> cache;
  auto& b = cache[{n, hnsw}];
  if (b.gallery) return b;
  std::mt19937 rng(42);
  std::vector<Vec> vectors(n);
  for (auto& v : vectors) v = random_unit(rng);
  double before = rss_mb();
  auto t0 = std::chrono::steady_clock::now();
  b.gallery = std::make_unique<Gallery>(hnsw ? 1 : SIZE_MAX);
  for (size_t i = 0; i < n; ++i) b.gallery->add("p" + std::to_string(i / 5), "e" + std::to_string(i), vectors[i]);
  b.build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  b.rss_mb = rss_mb() - before;
  b.vectors = std::move(vectors);
  return b;
}

void search(benchmark::State& state, bool hnsw) {
  const size_t n = size_t(state.range(0));
  Built& b = gallery(n, hnsw);
  std::mt19937 rng(7);
  std::uniform_int_distribution<size_t> pick(0, n - 1);
  std::vector<Vec> queries(256);
  for (auto& q : queries) q = near(b.vectors[pick(rng)], rng);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(b.gallery->search(queries[i++ % queries.size()]));
  state.counters["rss_MB"] = b.rss_mb;
  state.counters["build_s"] = b.build_s;
  state.counters["hnsw"] = b.gallery->uses_hnsw();
  if (hnsw) {
    Built& exact = gallery(n, false);
    int agree = 0;
    for (const auto& q : queries) agree += b.gallery->search(q)->person_id == exact.gallery->search(q)->person_id;
    state.counters["recall"] = double(agree) / double(queries.size());
  }
}

void BM_GallerySearchExact(benchmark::State& state) { search(state, false); }
void BM_GallerySearchHnsw(benchmark::State& state) { search(state, true); }

BENCHMARK(BM_GallerySearchExact)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GallerySearchHnsw)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);

}  // namespace
