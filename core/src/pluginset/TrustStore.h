// The regions a box trusts to certify plugin sets. A trust directory holds one
// subdirectory per region:
//   <trust>/<region>/region.yaml   name, hsa_id, threshold (default 1), require_crl (default true)
//   <trust>/<region>/root.pem      one or more self-signed region root certificates
//   <trust>/<region>/crl.pem       the region's current CRLs (one per CA of its hierarchy,
//   <trust>/<region>/crl-*.pem     concatenated in crl.pem or spread over crl-<name>.pem)
// See docs/region-certification.md.
#pragma once

#include "pluginset/Ssl.h"

#include <string>
#include <vector>

namespace klinikbox::pluginset {

struct Region {
    std::string dir;    // the subdirectory, e.g. "region-demo"
    std::string path;   // the directory itself (in the trust directory or the local one)
    std::string name;   // "Region Demo"
    std::string hsaId;  // the region's HSA-id (the national directory's identifier)
    int threshold = 1;  // valid signatures by distinct certificates a set needs
    bool requireCrl = true;
    std::vector<ssl::SharedX509> roots;
    std::vector<ssl::SharedCrl> crls;
    std::string crlFile;  // where its CRLs come from (comma-separated files), for messages
};

class TrustStore {
  public:
    // Reads every region of a trust directory. Throws std::runtime_error naming the file
    // and the problem: missing or unknown keys, a root that is not a self-signed CA, the
    // same root or HSA-id in two regions, a crl.pem that is not PEM CRLs.
    static TrustStore load(const std::string& trustDir);
    // The regions of the configured trust directory (empty: none; else it must exist) and of
    // a local one (data_dir/trust, where the first-run wizard installs a region: the service
    // cannot write /etc/klinikbox/trust; skipped while missing), checked together.
    static TrustStore load(const std::string& trustDir, const std::string& localDir);
    // One region directory on its own, with the same checks (the wizard tries an entry
    // before it installs it).
    static Region loadOne(const std::string& regionDir);

    // A store of one region (for code that judges one region's CRLs).
    static TrustStore ofRegion(const Region& r) {
        TrustStore t;
        t.regions_.push_back(r);
        return t;
    }

    [[nodiscard]] const std::vector<Region>& regions() const { return regions_; }
    [[nodiscard]] const std::string& directory() const { return dir_; }

  private:
    std::string dir_;
    std::vector<Region> regions_;
};

}  // namespace klinikbox::pluginset
