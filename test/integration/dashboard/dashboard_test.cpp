// The dashboard served by a real cmsd, rendered by Debian's headless chromium: the DOM must show
// the live node id, role and provisioned data links (all filled in by app.js from the API), and
// a screenshot is kept as an artefact (<build>/test/artifacts/dashboard.png).

#include "support/node_harness.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

using namespace cms::test;
using namespace std::chrono_literals;

namespace {

const std::string chromium = "/usr/bin/chromium";

std::vector<std::string> chromium_args(const temp_dir& dir, const std::string& profile) {
  return {chromium,
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--hide-scrollbars",
          "--user-data-dir=" + (dir.path() / profile).string(),
          "--virtual-time-budget=5000"};
}

/// Text of the element with this id in the dumped DOM, or empty.
std::string element_text(const std::string& dom, const std::string& id) {
  std::smatch m;
  std::regex re("id=\"" + id + "\"[^>]*>([^<]*)<");
  return std::regex_search(dom, m, re) ? m[1].str() : std::string{};
}

class dashboard : public ::testing::Test {
protected:
  void SetUp() override {
    if (!std::filesystem::exists(chromium))
      GTEST_SKIP() << chromium << " is not installed";
    node.start();
    ASSERT_TRUE(node.wait_active()) << node.output();
  }
  node_harness node;
};

TEST_F(dashboard, page_renders_the_live_node_values) {
  auto index = http_get(node.http_port, "/");
  ASSERT_EQ(http_status(index), 200) << index;
  EXPECT_NE(index.find("text/html"), std::string::npos);
  // The static page itself holds no live values: they must come from app.js.
  EXPECT_EQ(http_body(index).find(node.id), std::string::npos);
  EXPECT_EQ(http_status(http_get(node.http_port, "/app.js")), 200);
  EXPECT_EQ(http_status(http_get(node.http_port, "/style.css")), 200);

  auto args = chromium_args(node.dir, "profile-dom");
  args.push_back("--dump-dom");
  args.push_back(node.base_url() + "/");
  auto [code, dom] = run_program(args, node.dir.path() / "dom.html", 90s);
  ASSERT_EQ(code, 0) << dom;
  EXPECT_NE(dom.find("data-loaded=\"true\""), std::string::npos) << dom;
  EXPECT_EQ(element_text(dom, "node-id"), node.id) << dom;
  EXPECT_EQ(element_text(dom, "node-role"), node.role()) << dom;
  EXPECT_EQ(element_text(dom, "node-role"), "active") << dom;
  EXPECT_EQ(element_text(dom, "node-admission"), "accepting calls") << dom;
  EXPECT_NE(dom.find("dl-primary"), std::string::npos) << "data links come from /links";
  EXPECT_NE(dom.find("tgw-p1.partner.example"), std::string::npos) << "gateways come from /trunks";
  EXPECT_NE(dom.find("starting -&gt; active"), std::string::npos) << "events come from /events";
  // The network picture: the gateways in their segment, this node in the CMS segment, and each
  // event names the node (and its role) that reported it.
  auto partner = dom.find("id=\"net-partner-gateways\"");
  ASSERT_NE(partner, std::string::npos) << dom;
  EXPECT_NE(dom.find("data-gateway=\"tgw-p1.partner.example\"", partner), std::string::npos) << dom;
  EXPECT_NE(dom.find("id=\"net-this\""), std::string::npos) << dom;
  EXPECT_NE(dom.find("class=\"who\">" + node.id + " ("), std::string::npos) << dom;
}

TEST_F(dashboard, drain_shows_on_the_page_and_a_screenshot_is_kept) {
  auto drained = tcp_exchange(node.http_port,
                              "POST /admin/drain HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                node.token + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(http_status(drained), 200) << drained;

  auto dom_args = chromium_args(node.dir, "profile-drain");
  dom_args.push_back("--dump-dom");
  dom_args.push_back(node.base_url() + "/");
  auto [dcode, dom] = run_program(dom_args, node.dir.path() / "dom2.html", 90s);
  ASSERT_EQ(dcode, 0) << dom;
  EXPECT_EQ(element_text(dom, "node-admission"), "draining (new calls refused)") << dom;

  auto artifacts = std::filesystem::path(CMS_BINARY_DIR) / "test" / "artifacts";
  std::filesystem::create_directories(artifacts);
  auto shot = artifacts / "dashboard.png";
  std::filesystem::remove(shot);
  auto args = chromium_args(node.dir, "profile-shot");
  args.push_back("--window-size=1280,800");
  args.push_back("--screenshot=" + shot.string());
  args.push_back(node.base_url() + "/");
  auto [code, out] = run_program(args, node.dir.path() / "shot.out", 90s);
  ASSERT_EQ(code, 0) << out;
  ASSERT_TRUE(std::filesystem::exists(shot)) << out;
  std::ifstream png{shot, std::ios::binary};
  char magic[8] = {};
  png.read(magic, 8);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  EXPECT_GT(std::filesystem::file_size(shot), 10'000u) << "a blank page compresses far smaller";
}

} // namespace
