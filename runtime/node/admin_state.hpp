#pragma once
// Administrative state of data links and gateways: what the operator has taken out of service
// (POST /admin/links/{name}/out-of-service, /admin/gateways/{name}/out-of-service, and /return).
//
// It is the operator's intent, not the observed state: a data-link actor that finds its link
// administratively out of service stops carrying traffic on it (and reports state "down" with
// reason "administratively out of service"); trunk hunting skips the facilities of a gateway
// that is out of service. Those actors consult is_out_of_service() (any thread) or register a
// listener with on_change(); the HTTP listings merge it into each row as "admin_state".
// Persisted by the management service (runtime/node/admin_state_store.hpp): a restarted node keeps
// what the operator took out of service, and says so in its log and events list.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace cms {

enum class admin_object { data_link, gateway };

const char* to_string(admin_object kind) noexcept;

struct admin_entry {
  std::string name;
  bool out_of_service = false;
  std::int64_t since_ms = 0; ///< UTC ms of the last change
  std::string reason;        ///< operator's reason of the last change
};

class admin_state_registry {
public:
  using listener = std::function<void(admin_object, const admin_entry&)>;

  /// Takes `name` out of service (true) or returns it (false). Returns false when it already
  /// was in that state (nothing changed, no listener called).
  bool set_out_of_service(admin_object kind, const std::string& name, bool out_of_service,
                          std::string reason);
  bool is_out_of_service(admin_object kind, const std::string& name) const;
  /// The entry of `name`; an object never touched is in service with since_ms 0.
  admin_entry get(admin_object kind, const std::string& name) const;
  /// Every object of `kind` currently out of service.
  std::vector<admin_entry> out_of_service(admin_object kind) const;

  /// Puts back an entry saved before a restart (runtime/node/admin_state_store.hpp), keeping its
  /// since and reason. Listeners are not called (they attach after start-up).
  void restore(admin_object kind, admin_entry entry);

  /// Called after every change, outside the registry's lock, on the thread that made the change.
  /// Listeners must not block (post to an actor: caf::anon_send).
  void on_change(listener l);

private:
  mutable std::mutex mutex_;
  std::map<std::string, admin_entry> entries_[2];
  std::vector<listener> listeners_;
};

} // namespace cms
