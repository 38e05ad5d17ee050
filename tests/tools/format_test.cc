// tools/format: sizes, ages, tables.
#include "tools/format.h"

#include "gtest/gtest.h"

namespace casfs::tools {
namespace {

TEST(HumanSize, Is1024Based) {
  EXPECT_EQ(HumanSize(0), "0 B");
  EXPECT_EQ(HumanSize(1023), "1023 B");
  EXPECT_EQ(HumanSize(1024), "1.0 KiB");
  EXPECT_EQ(HumanSize(1536), "1.5 KiB");
  EXPECT_EQ(HumanSize(1048575), "1.0 MiB");
  EXPECT_EQ(HumanSize(5 * 1048576LL), "5.0 MiB");
  EXPECT_EQ(HumanSize(3LL << 30), "3.0 GiB");
  EXPECT_EQ(HumanSize(1LL << 62), "4.0 EiB");
}

TEST(HumanDuration, AsGoUnits) {
  EXPECT_EQ(HumanDuration(0), "Less than a second");
  EXPECT_EQ(HumanDuration(1), "1 second");
  EXPECT_EQ(HumanDuration(59), "59 seconds");
  EXPECT_EQ(HumanDuration(60), "About a minute");
  EXPECT_EQ(HumanDuration(180), "3 minutes");
  EXPECT_EQ(HumanDuration(3600), "About an hour");
  EXPECT_EQ(HumanDuration(5 * 3600), "5 hours");
  EXPECT_EQ(HumanDuration(3 * 86400), "3 days");
  EXPECT_EQ(HumanDuration(15 * 86400), "2 weeks");
  EXPECT_EQ(HumanDuration(100 * 86400), "3 months");
  EXPECT_EQ(HumanDuration(800 * 86400), "2 years");
}

TEST(Age, CountsFromThenAndNeverGoesNegative) {
  Timestamp now{1000, 500};
  EXPECT_EQ(Age(Timestamp{820, 500}, now), "3 minutes ago");
  EXPECT_EQ(Age(Timestamp{999, 600}, now), "Less than a second ago");
  EXPECT_EQ(Age(Timestamp{2000, 0}, now), "Less than a second ago");
}

TEST(Table, PadsColumnsToTheWidestCell) {
  Table table({"A", "BB", "C"});
  table.AddRow({"long cell", "x", "last"});
  table.AddRow({"s", "", ""});
  EXPECT_EQ(table.Render(),
            "A          BB  C\n"
            "long cell  x   last\n"
            "s\n");
}

TEST(JoinLabels, SortedByKey) {
  EXPECT_EQ(JoinLabels({{"b", "2"}, {"a", "1"}}), "a=1,b=2");
  EXPECT_EQ(JoinLabels({}), "");
}

}  // namespace
}  // namespace casfs::tools
