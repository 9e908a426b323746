#include "runtime/radius/secret.hpp"

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace cms::radius {

std::string load_secret(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw std::runtime_error("RADIUS secret file " + path + " cannot be read");
  if (st.st_mode & S_IROTH)
    throw std::runtime_error("RADIUS secret file " + path + " is world-readable (chmod o-r)");
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::runtime_error("RADIUS secret file " + path + " cannot be opened");
  std::string s{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (s.size() > 4096)
    throw std::runtime_error("RADIUS secret file " + path + " is longer than 4096 octets");
  if (!s.empty() && s.back() == '\n')
    s.pop_back();
  if (!s.empty() && s.back() == '\r')
    s.pop_back();
  if (s.empty())
    throw std::runtime_error("RADIUS secret file " + path + " is empty");
  return s;
}

} // namespace cms::radius
