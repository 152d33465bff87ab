// Basket files (`tranche execute --basket FILE`, docs/lists.md): read whole and checked before anything runs,
// every mistake named with its file and leg.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "service/basket_command.hpp"

namespace tranche::service {
namespace {

std::string write(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("tranche-basket-" + std::to_string(::getpid()) + "-" + name + ".toml"))
                               .string();
  std::ofstream(path) << text;
  return path;
}

const char* kPair = R"([list]
id = "basis"
max_imbalance = "0.05"

[[leg]]
instrument = "ETH-USDT"
side = "buy"
qty = "20"
algo = "twap"
params = { slice = "5s", randomize = 0 }

[[leg]]
instrument = "ETH-USDT-PERP"
side = "sell"
qty = "20"
limit = "2600"
)";

TEST(BasketFile, APairIsReadWithTheListsTermsAddedToEveryLeg) {
  const std::string path = write("pair", kPair);
  auto file = read_basket(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->id, "basis");
  EXPECT_TRUE(file->balanced());
  ASSERT_EQ(file->legs.size(), 2u);
  EXPECT_EQ(file->legs[0].side, Side::Buy);
  EXPECT_EQ(file->legs[1].side, Side::Sell);
  EXPECT_EQ(file->legs[1].algo, "twap") << "the default algo";
  EXPECT_EQ(file->legs[1].limit.to_string(), "2600");
  auto has = [](const oms::ParentOrder& leg, const std::string& key, const std::string& value) {
    for (const auto& p : leg.params)
      if (p.key == key) return p.value == value;
    return false;
  };
  for (const auto& leg : file->legs) {
    EXPECT_TRUE(has(leg, "list", "basis"));
    EXPECT_TRUE(has(leg, "list_legs", "2"));
    EXPECT_TRUE(has(leg, "list_max_imbalance", "0.05"));
  }
  EXPECT_TRUE(has(file->legs[0], "slice", "5s"));
  EXPECT_TRUE(has(file->legs[0], "randomize", "0"));
}

TEST(BasketFile, MistakesAreRefusedNamingTheFileTheLegAndWhat) {
  struct Case {
    std::string name, text, says;
  };
  const std::string leg_b = "\n[[leg]]\ninstrument = \"ETH-USDT-PERP\"\nside = \"sell\"\nqty = \"20\"\n";
  const std::vector<Case> cases = {
      {"not toml", "[list\nid=", "line"},
      {"no legs", "[list]\nmax_imbalance = \"0.05\"\n", "no [[leg]]"},
      {"no side", "[[leg]]\ninstrument = \"ETH-USDT\"\nqty = \"1\"\n" + leg_b, "leg 1: no side"},
      {"a number for a quantity", "[[leg]]\ninstrument = \"ETH-USDT\"\nside = \"buy\"\nqty = 1\n" + leg_b,
       "decimal string"},
      {"a negative quantity", "[[leg]]\ninstrument = \"ETH-USDT\"\nside = \"buy\"\nqty = \"-1\"\n" + leg_b,
       "not a positive decimal"},
      {"an unknown key",
       "[[leg]]\ninstrument = \"ETH-USDT\"\nside = \"buy\"\nqty = \"1\"\nqtty = \"2\"\n" + leg_b,
       "unknown key 'qtty'"},
      {"an unknown table",
       "[lst]\nid = \"x\"\n[[leg]]\ninstrument = \"ETH-USDT\"\nside = \"buy\"\nqty = \"1\"\n",
       "unknown table 'lst'"},
      {"a list term among the params",
       "[[leg]]\ninstrument = \"ETH-USDT\"\nside = \"buy\"\nqty = \"1\"\nparams = { list = \"x\" }\n" + leg_b,
       "is the list's"},
      {"an unknown algo",
       "[[leg]]\ninstrument = \"ETH-USDT\"\nside = \"buy\"\nqty = \"1\"\nalgo = \"moon\"\n" + leg_b,
       "unknown algo 'moon'"},
      {"a bad algo parameter",
       "[[leg]]\ninstrument = \"ETH-USDT\"\nside = \"buy\"\nqty = \"1\"\nparams = { tolerance = \"9\" }\n" +
           leg_b,
       "tolerance"},
      {"a side twice",
       "[list]\nmax_imbalance = \"0.05\"\n[[leg]]\ninstrument = \"ETH-USDT-PERP\"\nside = \"sell\"\nqty = "
       "\"1\"\n" +
           leg_b,
       "repeats"},
      {"a limit out of range",
       std::string("[list]\nmax_imbalance = \"1.5\"\n[[leg]]\ninstrument = \"ETH-USDT\"\n") +
           "side = \"buy\"\nqty = \"1\"\n" + leg_b,
       "list_max_imbalance"},
      {"a pair of three",
       std::string("[list]\nmax_imbalance = \"0.1\"\n[[leg]]\ninstrument = \"ETH-USDT\"\nside = \"buy\"\nqty "
                   "= \"1\"\n") +
           "[[leg]]\ninstrument = \"ETH-USDT\"\nside = \"sell\"\nqty = \"1\"\n" + leg_b,
       "pair"},
      {"a cash limit on one side",
       "[list]\ncash_limit = \"100\"\n[[leg]]\ninstrument = \"ETH-USDT\"\nside = \"buy\"\nqty = \"1\"\n"
       "[[leg]]\ninstrument = \"ETH-USDT-PERP\"\nside = \"buy\"\nqty = \"1\"\n",
       "buy legs and sell legs"},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string path = write("bad" + std::to_string(++n), c.text);
    auto file = read_basket(path);
    std::filesystem::remove(path);
    ASSERT_FALSE(file.ok()) << c.name;
    EXPECT_NE(file.error().message.find(c.says), std::string::npos) << c.name << ": " << file.error().message;
    EXPECT_NE(file.error().message.find(path), std::string::npos) << c.name << ": " << file.error().message;
  }
  EXPECT_FALSE(read_basket("/nonexistent/basket.toml").ok());
}

}  // namespace
}  // namespace tranche::service
