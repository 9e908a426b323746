#include "runtime/snmp/subagent.hpp"

#include "runtime/snmp/mib_server.hpp"
#include "runtime/snmp/trap_varbinds.hpp"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
#include <net-snmp/agent/agent_callbacks.h>
#include <net-snmp/library/large_fd_set.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <csignal>
#include <mutex>
#include <pthread.h>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace cms::snmp {
namespace {

/// net-snmp 5.9 cannot be initialised again after snmp_shutdown() (its internal AgentX callback
/// session is not reopened: a second subagent connects but never answers the master), so a
/// process gets one subagent start. 0: never started, 1: running, 2: stopped.
std::atomic<int> subagent_in_process{0};

/// Longest the loop sleeps without looking at its queue (a safety net: every producer also
/// writes the wake pipe).
constexpr long max_sleep_us = 500'000;

int forward_log(int, int, void* serverarg, void*) {
  const auto* message = static_cast<const snmp_log_message*>(serverarg);
  if (message == nullptr || message->msg == nullptr)
    return SNMP_ERR_NOERROR;
  std::string text(message->msg);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  if (text.empty())
    return SNMP_ERR_NOERROR;
  // The library reports the standard MIB files a host lacks; the subagent never reads MIBs.
  const bool about_mib_files =
    text.rfind("MIB search path", 0) == 0 || text.rfind("Cannot find module", 0) == 0;
  if (about_mib_files)
    spdlog::debug("snmp: {}", text);
  else if (message->priority <= LOG_ERR)
    spdlog::error("snmp: {}", text);
  else if (message->priority == LOG_WARNING)
    spdlog::warn("snmp: {}", text);
  else
    spdlog::debug("snmp: {}", text);
  return SNMP_ERR_NOERROR;
}

} // namespace

struct subagent::impl {
  explicit impl(subagent_config c) : config(std::move(c)) {}

  subagent_config config;

  // Shared with node threads, under `mutex`.
  mutable std::mutex mutex;
  node_view pending; ///< latest view given to update()
  std::uint64_t pending_version = 0;
  std::deque<trap> queue; ///< traps waiting for the net-snmp thread
  subagent_stats stats;

  // Start handshake.
  std::condition_variable started_cv;
  bool started = false;
  std::string start_error;

  std::atomic<bool> stop_requested{false};
  std::atomic<bool> is_running{false};
  int wake_pipe[2] = {-1, -1};
  std::thread thread;

  // Owned by the net-snmp thread only.
  node_view served; ///< the view requests are answered from
  std::uint64_t served_version = 0;
  bool connected = false;

  void wake() {
    if (wake_pipe[1] >= 0) {
      const char byte = 1;
      // A full pipe already guarantees a wake-up, so a failed write is fine.
      [[maybe_unused]] auto n = ::write(wake_pipe[1], &byte, 1);
    }
  }

  void drain_wake_pipe() {
    char buffer[64];
    while (::read(wake_pipe[0], buffer, sizeof buffer) > 0) {}
  }

  void set_connected(bool now) {
    connected = now;
    std::lock_guard<std::mutex> lock(mutex);
    stats.connected = now;
    if (now)
      ++stats.connects;
  }

  /// The running subagent, for net-snmp's callbacks. Not passed as the callbacks' clientarg
  /// because snmp_shutdown() free()s every clientarg it still holds.
  static inline std::atomic<impl*> current{nullptr};

  static int on_master_connected(int, int, void*, void*) {
    if (auto* self = current.load())
      self->set_connected(true);
    spdlog::info("snmp: connected to AgentX master");
    return SNMP_ERR_NOERROR;
  }

  static int on_master_lost(int, int, void*, void*) {
    if (auto* self = current.load())
      self->set_connected(false);
    spdlog::warn("snmp: lost the AgentX master, retrying");
    return SNMP_ERR_NOERROR;
  }

  /// init_agent() resets the AgentX settings to its defaults (ping every 15 s), so this runs
  /// before and after it.
  void configure_agentx() {
    netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
    netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
                          config.agentx_socket.c_str());
    netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
                       static_cast<int>(std::max<long long>(1, config.ping_interval.count())));
  }

  void configure_library() {
    configure_agentx();
    // Our own reconnect message is enough; net-snmp would log every failed retry.
    netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_NO_CONNECTION_WARNINGS, 1);
    // Alarms (pings, reconnects) must not use SIGALRM in a multi-threaded process: the loop
    // below runs them from select() timeouts instead.
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_ALARM_DONT_USE_SIG, 1);
    // The node's configuration is ours, not /etc/snmp/<name>.conf; nothing is persisted.
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    // The subagent needs no MIB files; do not report the ones the host lacks.
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_ERRORS, 0);
    netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
    snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, forward_log, nullptr);
    snmp_enable_calllog();
  }

  void report_started(std::string error) {
    std::lock_guard<std::mutex> lock(mutex);
    started = true;
    start_error = std::move(error);
    started_cv.notify_all();
  }

  void refresh_view() {
    std::lock_guard<std::mutex> lock(mutex);
    if (pending_version != served_version) {
      served = pending;
      served_version = pending_version;
    }
  }

  void send_queued_traps() {
    for (;;) {
      trap next;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (queue.empty())
          return;
        next = std::move(queue.front());
        queue.pop_front();
        stats.traps_queued = queue.size();
      }
      netsnmp_variable_list* vars = make_trap_varbinds(next);
      send_v2trap(vars);
      snmp_free_varbind(vars);
      std::lock_guard<std::mutex> lock(mutex);
      ++stats.traps_sent;
    }
  }

  void wait_for_work() {
    netsnmp_large_fd_set readfds;
    netsnmp_large_fd_set_init(&readfds, FD_SETSIZE);
    int numfds = 0;
    int block = 0;
    timeval timeout{0, 0};
    snmp_select_info2(&numfds, &readfds, &timeout, &block);
    if (block != 0 || timeout.tv_sec > 0 || timeout.tv_usec > max_sleep_us)
      timeout = timeval{0, max_sleep_us};
    NETSNMP_LARGE_FD_SET(wake_pipe[0], &readfds);
    numfds = std::max(numfds, wake_pipe[0] + 1);
    const int count = netsnmp_large_fd_set_select(numfds, &readfds, nullptr, nullptr, &timeout);
    if (count > 0) {
      if (NETSNMP_LARGE_FD_ISSET(wake_pipe[0], &readfds))
        drain_wake_pipe();
      snmp_read2(&readfds);
    } else if (count == 0) {
      snmp_timeout();
    } else if (errno != EINTR) {
      spdlog::error("snmp: select failed: {}", std::strerror(errno));
    }
    run_alarms();
    netsnmp_check_outstanding_agent_requests();
    netsnmp_large_fd_set_cleanup(&readfds);
  }

  void run() {
    // A write to a master that just went away raises SIGPIPE in the writing thread. Blocked here,
    // the write fails with EPIPE instead, net-snmp sees the disconnect and starts reconnecting.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);

    const char* app = config.name.c_str();
    configure_library();
    if (init_agent(app) != 0) {
      snmp_shutdown(app);
      report_started("net-snmp init_agent failed");
      return;
    }
    current.store(this);
    snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_START,
                           &impl::on_master_connected, nullptr);
    snmp_register_callback(SNMP_CALLBACK_APPLICATION, SNMPD_CALLBACK_INDEX_STOP,
                           &impl::on_master_lost, nullptr);
    configure_agentx();
    refresh_view();
    auto mib = std::make_unique<mib_server>(served);
    if (!mib->register_all()) {
      mib->unregister_all();
      mib.reset();
      snmp_shutdown(app);
      shutdown_agent();
      current.store(nullptr);
      report_started("net-snmp refused to register CMS-SOFTSWITCH-MIB");
      return;
    }
    // Connects to the master (or schedules the retries) and sends the registrations.
    init_snmp(app);
    report_started({});

    while (!stop_requested.load()) {
      refresh_view();
      if (connected)
        send_queued_traps();
      wait_for_work();
    }

    // Close the master session first (AgentX Close), then drop our registrations locally.
    snmp_shutdown(app);
    mib->unregister_all();
    mib.reset();
    shutdown_agent();
    current.store(nullptr);
    connected = false;
    std::lock_guard<std::mutex> lock(mutex);
    stats.connected = false;
    stats.traps_dropped += queue.size();
    queue.clear();
    stats.traps_queued = 0;
  }
};

subagent::subagent(subagent_config config) : impl_(std::make_unique<impl>(std::move(config))) {}

subagent::~subagent() { stop(); }

void subagent::start() {
  if (impl_->is_running.load())
    return;
  int expected = 0;
  if (!subagent_in_process.compare_exchange_strong(expected, 1))
    throw std::logic_error(expected == 1
                             ? "cms::snmp::subagent: another subagent runs in this process "
                               "(net-snmp keeps global state)"
                             : "cms::snmp::subagent: net-snmp cannot be started again in a "
                               "process after stop()");
  auto& i = *impl_;
  if (::pipe2(i.wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
    subagent_in_process.store(0);
    throw std::runtime_error("cms::snmp::subagent: cannot create wake pipe");
  }
  i.stop_requested.store(false);
  {
    std::lock_guard<std::mutex> lock(i.mutex);
    i.started = false;
    i.start_error.clear();
  }
  i.thread = std::thread([&i] { i.run(); });
  std::unique_lock<std::mutex> lock(i.mutex);
  i.started_cv.wait(lock, [&i] { return i.started; });
  if (!i.start_error.empty()) {
    auto error = i.start_error;
    lock.unlock();
    i.thread.join();
    ::close(i.wake_pipe[0]);
    ::close(i.wake_pipe[1]);
    i.wake_pipe[0] = i.wake_pipe[1] = -1;
    subagent_in_process.store(2);
    throw std::runtime_error("cms::snmp::subagent: " + error);
  }
  i.is_running.store(true);
}

void subagent::stop() {
  auto& i = *impl_;
  if (!i.is_running.exchange(false))
    return;
  i.stop_requested.store(true);
  i.wake();
  i.thread.join();
  ::close(i.wake_pipe[0]);
  ::close(i.wake_pipe[1]);
  i.wake_pipe[0] = i.wake_pipe[1] = -1;
  subagent_in_process.store(2);
}

bool subagent::running() const noexcept { return impl_->is_running.load(); }

bool subagent::update(const node_view& view) {
  auto problem = validate(view);
  auto& i = *impl_;
  {
    std::lock_guard<std::mutex> lock(i.mutex);
    if (!problem.empty()) {
      ++i.stats.updates_rejected;
      i.stats.last_error = "update refused: " + problem;
      spdlog::warn("snmp: {}", i.stats.last_error);
      return false;
    }
    i.pending = view;
    // The iterator helper walks rows in any order, but sorted rows keep GETNEXT cheap to reason
    // about and walks deterministic.
    auto by_index = [](const auto& a, const auto& b) { return a.index < b.index; };
    std::sort(i.pending.gateways.begin(), i.pending.gateways.end(), by_index);
    std::sort(i.pending.facilities.begin(), i.pending.facilities.end(), by_index);
    std::sort(i.pending.data_links.begin(), i.pending.data_links.end(), by_index);
    std::sort(i.pending.call_failures_by_cause.begin(), i.pending.call_failures_by_cause.end(),
              [](const auto& a, const auto& b) { return a.cause < b.cause; });
    ++i.pending_version;
    ++i.stats.updates;
  }
  i.wake();
  return true;
}

bool subagent::notify(trap t) {
  auto& i = *impl_;
  auto problem = check(t);
  bool accepted = true;
  {
    std::lock_guard<std::mutex> lock(i.mutex);
    if (!problem.empty()) {
      ++i.stats.traps_dropped;
      i.stats.last_error = "trap refused: " + problem;
      spdlog::warn("snmp: {}", i.stats.last_error);
      return false;
    }
    if (i.queue.size() >= std::max<std::size_t>(1, i.config.trap_queue_limit)) {
      i.queue.pop_front();
      ++i.stats.traps_dropped;
      i.stats.last_error = "trap queue full: dropped the oldest trap";
      accepted = false;
    }
    i.queue.push_back(std::move(t));
    i.stats.traps_queued = i.queue.size();
  }
  i.wake();
  return accepted;
}

subagent_stats subagent::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->stats;
}

} // namespace cms::snmp
