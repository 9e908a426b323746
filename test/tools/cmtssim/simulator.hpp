#pragma once
// One simulated CMTS: the gate table, the COPS PEP listener, optional upstream policing, the
// JSON control interface, and the final report (gates set / deleted / closed / leaked, media
// forwarded / policed).

#include "test/tools/cmtssim/control_server.hpp"
#include "test/tools/cmtssim/em_sender.hpp"
#include "test/tools/cmtssim/gate_table.hpp"
#include "test/tools/cmtssim/options.hpp"
#include "test/tools/cmtssim/pep_server.hpp"
#include "test/tools/cmtssim/policer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>

#include <memory>

namespace cms::cmtssim {

class simulator {
public:
  /// `ems` may be null: no event messages are sent (see em_sender.hpp).
  simulator(boost::asio::io_context& io, const options& opts, em_sender* ems = nullptr);

  void stop();
  /// Control requests; see control_server.hpp for the transport and README-style list in
  /// simulator.cpp for the commands.
  boost::json::value execute(const boost::json::object& request);
  boost::json::value report() const;

  std::uint16_t cops_port() const { return pep_->port(); }
  std::uint16_t control_port() const { return control_ ? control_->port() : 0; }
  std::uint16_t police_port() const { return policer_ ? policer_->port() : 0; }

private:
  void commit(gate& g);

  gate_table gates_;
  em_sender* ems_;
  std::unique_ptr<pep_server> pep_;
  std::unique_ptr<policer> policer_;
  std::unique_ptr<control_server> control_;
};

} // namespace cms::cmtssim
