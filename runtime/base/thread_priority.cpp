#include "runtime/base/thread_priority.hpp"

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace cms {

std::string lower_this_thread(const char* name, int delta) {
  pthread_setname_np(pthread_self(), name);
  if (delta == 0)
    return {};
  errno = 0;
  const int process_nice = getpriority(PRIO_PROCESS, 0); // -1 is a valid answer: check errno
  if (errno != 0)
    return std::error_code{errno, std::generic_category()}.message();
  const int target = std::clamp(process_nice + delta, -20, 19);
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), target) != 0)
    return std::error_code{errno, std::generic_category()}.message();
  return {};
}

} // namespace cms
