#pragma once
// Asking an actor from a thread that is not one (node start-up and stop), and waiting for the
// answer. Through a short-lived event-based actor that fulfils a std::promise, not a
// scoped_actor's blocking receive: CAF hands a blocking actor's mailbox to the waiting thread in
// a way ThreadSanitizer cannot see, while a promise is ordinary synchronisation.

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/sec.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <tuple>
#include <utility>

namespace cms {

/// Sends `xs...` to `whom` as a request and blocks until the answer of type `T` or an error
/// (the request's own timeout included: `timeout` bounds the wait).
template <class T, class... Ts>
caf::expected<T> ask_and_wait(caf::actor_system& sys, const caf::actor& whom,
                              std::chrono::milliseconds timeout, Ts... xs) {
  if (!whom)
    return caf::make_error(caf::sec::invalid_argument, "no actor to ask");
  auto done = std::make_shared<std::promise<caf::expected<T>>>();
  auto answer = done->get_future();
  // (The unused int: CAF 0.17 dereferences a null argument tuple, UBSan, when a lambda actor is
  // spawned without arguments.)
  sys.spawn(
    [done, whom, timeout, args = std::make_tuple(std::move(xs)...)](caf::event_based_actor* self,
                                                                    int) mutable {
      std::apply([&](auto&... a) { return self->request(whom, timeout, std::move(a)...); }, args)
        .then([done](T& x) { done->set_value(std::move(x)); },
              [done](caf::error& err) { done->set_value(std::move(err)); });
    },
    0);
  return answer.get();
}

} // namespace cms
