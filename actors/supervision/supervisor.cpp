#include "actors/supervision/supervisor.hpp"

#include "runtime/base/logging.hpp"

#include <boost/json.hpp>

namespace cms::actors {

namespace {

using self_ptr = caf::stateful_actor<supervisor_state>*;

void start_child(self_ptr self, supervisor_state::child& c) {
  c.handle = c.spec.start(self);
  if (c.handle)
    self->monitor(c.handle);
}

void shut_down_children(self_ptr self, const caf::error& reason) {
  for (auto& c : self->state.children)
    if (c.handle) {
      self->demonitor(c.handle);
      self->send_exit(c.handle, reason);
      c.handle = nullptr;
    }
}

/// True while another restart keeps us inside the intensity budget.
bool within_budget(self_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  while (!st.recent_restarts.empty() && now - st.recent_restarts.front() > st.intensity.period)
    st.recent_restarts.pop_front();
  st.recent_restarts.push_back(now);
  return static_cast<int>(st.recent_restarts.size()) <= st.intensity.max_restarts;
}

void on_child_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto it = std::find_if(st.children.begin(), st.children.end(),
                         [&](auto& c) { return c.handle && c.handle.address() == msg.source; });
  if (it == st.children.end())
    return;
  auto logger = log::get("supervisor");
  it->handle = nullptr;
  bool abnormal = msg.reason && msg.reason != caf::exit_reason::normal;
  bool restart = it->spec.policy == restart_policy::permanent ||
                 (it->spec.policy == restart_policy::transient && abnormal);
  auto reason_text = self->system().render(msg.reason);
  if (!restart) {
    logger->info("supervisor={} child={} event=exited reason=\"{}\"", st.name, it->spec.id,
                 reason_text);
    return;
  }
  if (!within_budget(self)) {
    logger->error("supervisor={} child={} event=escalate reason=\"{}\" restarts_in_period={}",
                  st.name, it->spec.id, reason_text, st.recent_restarts.size() - 1);
    if (st.metrics)
      st.metrics
        ->get_counter("cms_supervisor_escalations_total",
                      "Supervisors that gave up after too many restarts", {{"supervisor", st.name}})
        .inc();
    auto reason = msg.reason ? msg.reason : caf::make_error(caf::exit_reason::unhandled_exception);
    shut_down_children(self, caf::exit_reason::kill);
    self->quit(reason);
    return;
  }
  ++it->restarts;
  if (st.metrics)
    st.metrics
      ->get_counter("cms_supervisor_restarts_total", "Child actors restarted",
                    {{"supervisor", st.name}, {"child", it->spec.id}})
      .inc();
  logger->warn("supervisor={} child={} event=restart reason=\"{}\" restarts={}", st.name,
               it->spec.id, reason_text, it->restarts);
  start_child(self, *it);
}

} // namespace

caf::behavior supervisor(self_ptr self, std::string name, std::vector<child_spec> children,
                         restart_intensity intensity, metrics::registry* metrics) {
  auto& st = self->state;
  st.name = std::move(name);
  st.intensity = intensity;
  st.metrics = metrics;
  for (auto& spec : children)
    st.children.push_back({std::move(spec), nullptr, 0});
  for (auto& c : st.children)
    start_child(self, c);
  self->set_down_handler([self](caf::down_msg& msg) { on_child_down(self, msg); });
  // Trapping exits lets us take our children down with us instead of orphaning them.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    shut_down_children(self, msg.reason);
    self->quit(msg.reason);
  });
  return {
    [self](atom::lookup, const std::string& id) -> caf::result<caf::actor> {
      for (auto& c : self->state.children)
        if (c.spec.id == id && c.handle)
          return c.handle;
      return caf::make_error(caf::sec::invalid_argument, "no running child " + id);
    },
    [self](atom::children) {
      boost::json::array out;
      for (auto& c : self->state.children)
        out.push_back(
          {{"id", c.spec.id}, {"restarts", c.restarts}, {"running", static_cast<bool>(c.handle)}});
      return boost::json::serialize(out);
    },
  };
}

child_spec supervisor_child(std::string id, std::vector<child_spec> children,
                            restart_intensity intensity, metrics::registry* metrics) {
  auto name = id;
  return child_spec{std::move(id),
                    [=](caf::event_based_actor* self) {
                      return self->spawn(supervisor, name, children, intensity, metrics);
                    },
                    restart_policy::permanent};
}

} // namespace cms::actors
