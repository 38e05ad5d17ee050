#include "core/layout.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace casfs {
namespace {

const std::string kLayoutEmptyHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(LayoutTest, BlobPathsAreAlgorithmThenHex) {
  Layout layout("/r");
  auto digest = Digest::Parse(std::string("sha256:") + kLayoutEmptyHex);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(layout.BlobsDir(), "/r/blobs");
  EXPECT_EQ(layout.AlgorithmDir(Algorithm::kSha512), "/r/blobs/sha512");
  EXPECT_EQ(layout.BlobPath(*digest), std::string("/r/blobs/sha256/") + kLayoutEmptyHex);
}

// The two folder names containerd's docs verified against the Go code.
TEST(LayoutTest, IngestFolderIsSha256OfTheRawRef) {
  EXPECT_EQ(Layout::IngestFolderName("myref"),
            "dfbfd8d8c3e49c0e72063c1edbeb234d348d8bf9aac88066f3089160be663917");
  EXPECT_EQ(Layout::IngestFolderName("c1"),
            "d0f631ca1ddba8db3bcfcb9e057cdc98d0379f1bee00e75a545147a27dadd982");
  Layout layout("/r");
  EXPECT_EQ(layout.IngestRoot(), "/r/ingest");
  EXPECT_EQ(layout.IngestDir("myref"),
            "/r/ingest/dfbfd8d8c3e49c0e72063c1edbeb234d348d8bf9aac88066f3089160be663917");
}

TEST(LayoutTest, RefsAreNeitherEscapedNorNormalised) {
  // Slashes, dots and "..": one flat folder name each, all different.
  std::set<std::string> names;
  for (const char* ref : {"a/b", "a//b", "../x", ".", "..", "a b", "A"}) {
    std::string name = Layout::IngestFolderName(ref);
    EXPECT_EQ(name.size(), 64u);
    EXPECT_EQ(name.find('/'), std::string::npos);
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 7u);
  Layout layout("/r");
  EXPECT_EQ(layout.IngestDir("../../etc").parent_path(), "/r/ingest");
}

TEST(LayoutTest, LabelOverflowPath) {
  Layout layout("/r");
  auto digest = Digest::Parse(std::string("sha256:") + kLayoutEmptyHex);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(layout.LabelsDir(), "/r/labels");
  EXPECT_EQ(layout.LabelOverflowPath(*digest), std::string("/r/labels/sha256/") + kLayoutEmptyHex);
}

}  // namespace
}  // namespace casfs
