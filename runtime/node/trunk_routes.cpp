#include "runtime/node/trunk_routes.hpp"

#include "runtime/http/message.hpp"
#include "runtime/node/inventory_json.hpp"
#include "runtime/node/paging.hpp"

#include <boost/json.hpp>

namespace cms {

void add_trunk_routes(http::server& server, const trunks::trunk_control& trunks,
                      const admin_state_registry& admin) {
  auto ctx = trunks.context;
  auto off = trunks.offnet;
  server.add_route(
    http::verb::get, "/trunks", [ctx, &admin](const http::request& req, http::respond_fn respond) {
      http::response error;
      auto page = parse_paging(req, error);
      if (!page) {
        respond(std::move(error));
        return;
      }
      // The API's paging shape: facilities are the items (one trunk each); the
      // live gateway states and the segment preference come along unpaged.
      auto live = boost::json::parse(trunks::trunks_json(*ctx)).as_object();
      boost::json::array items;
      for (auto& f : live.at("facilities").as_array()) {
        auto o = f.as_object();
        auto* counts = o.if_contains("channels");
        std::string summary;
        if (counts && counts->is_object())
          for (auto& [state, n] : counts->as_object())
            summary +=
              (summary.empty() ? "" : " ") + std::string(state) + "=" + boost::json::serialize(n);
        o["channels_by_state"] = o.contains("channels") ? o["channels"] : boost::json::value{};
        o["channels"] = summary.empty() ? boost::json::value(o.at("channels_total"))
                                        : boost::json::value(summary);
        o["state"] = o.at("healthy").as_bool() ? "in_service" : "out_of_service";
        if (auto* gw = o.if_contains("gateway"); gw && gw->is_string()) {
          bool out = admin.is_out_of_service(admin_object::gateway, std::string(gw->as_string()));
          o["gateway_admin_state"] = out ? "out_of_service" : "in_service";
        }
        items.push_back(std::move(o));
      }
      auto query = req.query;
      query.erase("offset");
      query.erase("limit");
      auto body = make_page(std::move(items), *page, query);
      auto gateways = live.at("gateways").as_array();
      for (auto& g : gateways)
        if (auto* name = g.as_object().if_contains("name"); name && name->is_string())
          add_admin_fields(g.as_object(),
                           admin.get(admin_object::gateway, std::string(name->as_string())));
      body["gateways"] = std::move(gateways);
      body["primary_link_up"] = live.at("primary_link_up");
      body["preferred_segment"] = live.at("preferred_segment");
      respond(http::json_response(200, body));
    });
  server.add_route(
    http::verb::get, "/routes", [off](const http::request&, http::respond_fn respond) {
      if (!off) {
        respond(http::json_error(503, "no off-net router"));
        return;
      }
      respond(http::text_response(200, trunks::routes_json(*off), "application/json"));
    });
}

} // namespace cms
