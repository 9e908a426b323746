#pragma once
// A TCP relay on 127.0.0.1 for the billing integration tests. It plays the backup VPN tunnel (a
// second path to the same RKS) and injects faults into the TLS stream of a batch: flip a byte
// (a corrupted batch on the wire) or deliver the batch but swallow the RKS's answer and cut the
// connection (the RKS stored the batch, the forwarder never heard the ack).

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace cms::test {

class tcp_relay {
public:
  /// Listens on 127.0.0.1 (a free port) and relays every connection to 127.0.0.1:target_port.
  explicit tcp_relay(std::uint16_t target_port);
  ~tcp_relay();
  tcp_relay(const tcp_relay&) = delete;
  tcp_relay& operator=(const tcp_relay&) = delete;

  std::uint16_t port() const { return port_; }

  /// Client chunks of at least this many bytes are taken for batches (TLS handshake messages
  /// with our P-256 certificates are far smaller).
  static constexpr std::size_t batch_chunk = 2000;

  std::atomic<int> corrupt_batches{0}; ///< flip one byte in this many batch chunks
  std::atomic<int> swallow_acks{0};    ///< deliver this many batches, drop the reply, cut
  std::atomic<int> connections{0};     ///< accepted so far
  std::atomic<int> batches{0};         ///< batch chunks relayed (corrupted or not)

private:
  void accept_loop();
  void pump(int client, int server);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::uint16_t target_port_;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> pumps_;
};

} // namespace cms::test
