#include "runtime/mgcp/message.hpp"

#include "runtime/mgcp/text.hpp"

#include <array>

namespace cms::mgcp {

namespace {

constexpr std::array<std::string_view, 9> verb_names{"EPCF", "CRCX", "MDCX", "DLCX", "RQNT",
                                                     "NTFY", "AUEP", "AUCX", "RSIP"};

const std::string* find_param(const parameter_list& params, std::string_view name) noexcept {
  for (const auto& p : params)
    if (text::iequals(p.name, name))
      return &p.value;
  return nullptr;
}

void store_param(parameter_list& params, std::string name, std::string value) {
  for (auto& p : params) {
    if (text::iequals(p.name, name)) {
      p.value = std::move(value);
      return;
    }
  }
  params.push_back(parameter{text::upper(name), std::move(value)});
}

} // namespace

std::string_view to_string(verb v) noexcept {
  auto i = static_cast<std::size_t>(v);
  return i < verb_names.size() ? verb_names[i] : std::string_view{"????"};
}

std::optional<verb> verb_from_string(std::string_view s) noexcept {
  for (std::size_t i = 0; i < verb_names.size(); ++i)
    if (text::iequals(s, verb_names[i]))
      return static_cast<verb>(i);
  return std::nullopt;
}

const std::string* command::param(std::string_view name) const noexcept {
  return find_param(params, name);
}

void command::set_param(std::string name, std::string value) {
  store_param(params, std::move(name), std::move(value));
}

const std::string* response::param(std::string_view name) const noexcept {
  return find_param(params, name);
}

void response::set_param(std::string name, std::string value) {
  store_param(params, std::move(name), std::move(value));
}

} // namespace cms::mgcp
