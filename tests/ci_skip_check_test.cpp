// CI fails when a test skips for want of something CI should have provided (issue 9, "Tests that skip"):
// scripts/check_skips.py reads CTest's JUnit report (scripts/test.sh writes it) and refuses every skip
// not on .ci/allowed-skips; the package whose photos the BlazeFace tight-crop test needs is installed by
// scripts/install-deps.sh (the README's install command).
#include <gtest/gtest.h>

#include "test_support.h"

namespace facecrowd {
namespace {

const fs::path kSource = FACECROWD_SOURCE_DIR;

std::string junit(const std::string& skipped_name, const std::string& message) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="Linux-c++" tests="2" failures="0" disabled="0" skipped="1" hostname="" time="1" timestamp="2026-11-30T00:00:00">
  <testcase name="Restore.Works" classname="Restore.Works" time="0.5" status="run">
    <system-out>[ RUN      ] Restore.Works
[       OK ] Restore.Works (500 ms)
</system-out>
  </testcase>
  <testcase name=")" + skipped_name + R"(" classname=")" + skipped_name + R"(" time="0.01" status="notrun">
    <skipped message="Skipped"/>
    <system-out>[ RUN      ] )" + skipped_name + R"(
/src/tests/vision_test.cpp:307: Skipped
)" + message + R"(

[  SKIPPED ] )" + skipped_name + R"( (0 ms)
</system-out>
  </testcase>
</testsuite>
)";
}

CommandResult check(const fs::path& xml, const fs::path& allowed) {
  return run_shell("python3 '" + (kSource / "scripts" / "check_skips.py").string() + "' '" + xml.string() + "' '" +
                   allowed.string() + "'");
}

TEST(CiSkipCheck, SkipForAMissingPackageFailsTheRunAndNamesTheTestAndReason) {
  TempDir tmp;
  write_text(tmp.path() / "j.xml",
             junit("VisionDetector.BlazeFaceFindsTightlyCroppedFaces",
                   "\"/usr/share/doc/libdlib19.1/examples/johns\" absent (Debian package libdlib19.1)"));
  write_text(tmp.path() / "allowed", "# nothing allowed\n");
  auto r = check(tmp.path() / "j.xml", tmp.path() / "allowed");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("VisionDetector.BlazeFaceFindsTightlyCroppedFaces"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("libdlib19.1"), std::string::npos) << r.out;
}

TEST(CiSkipCheck, SkipOnTheAllowListPassesAndARunWithoutSkipsPasses) {
  TempDir tmp;
  write_text(tmp.path() / "j.xml", junit("Restore.DiskFull", "needs root to mount a tmpfs"));
  write_text(tmp.path() / "allowed", "# comment\nRestore\\.DiskFull: needs root\n");
  EXPECT_EQ(check(tmp.path() / "j.xml", tmp.path() / "allowed").exit_code, 0);
  std::string none = junit("X.Y", "m");
  none = none.substr(0, none.find("  <testcase name=\"X.Y\"")) + "</testsuite>\n";
  write_text(tmp.path() / "none.xml", none);
  write_text(tmp.path() / "empty", "");
  EXPECT_EQ(check(tmp.path() / "none.xml", tmp.path() / "empty").exit_code, 0);
}

TEST(CiSkipCheck, MissingReportFailsTheRun) {
  TempDir tmp;
  EXPECT_EQ(check(tmp.path() / "absent.xml", tmp.path() / "absent").exit_code, 2);
}

TEST(CiSkipCheck, CiRunsTheCheckAndTheInstallScriptInstallsTheJohnsPhotosPackage) {
  std::string ci = read_text(kSource / ".ci" / "run");
  EXPECT_NE(ci.find("scripts/check_skips.py build/ctest-junit.xml .ci/allowed-skips"), std::string::npos) << ci;
  EXPECT_NE(read_text(kSource / "scripts" / "test.sh").find("--output-junit ctest-junit.xml"), std::string::npos);
  EXPECT_NE(read_text(kSource / "scripts" / "install-deps.sh").find("libdlib19.1"), std::string::npos);
}

}  // namespace
}  // namespace facecrowd
