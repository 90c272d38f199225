#include "pluginset/SetManifest.h"

#include "pluginset/Dates.h"
#include "pluginset/VerifiedSet.h"

#include <klinikbox/HsaId.h>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <regex>
#include <set>
#include <sstream>

namespace klinikbox::pluginset {

namespace {

constexpr std::size_t kMaxDepth = 16;

// A YAML document reduced to what a manifest may use: maps, sequences, scalars and nulls.
struct YNode {
    enum class Kind { Null, Scalar, Sequence, Map } kind = Kind::Null;
    std::string value;
    bool plain = true;  // an unquoted scalar
    int line = 0, column = 0;
    std::vector<YNode> items;  // sequence items, or map keys and values alternating
};

struct StrictError {
    std::string message;
    int line, column;
};

// Builds YNodes from parser events, refusing every YAML feature that could make the signed
// bytes mean something else to another reader.
class StrictBuilder : public YAML::EventHandler {
  public:
    YNode root;
    bool done = false;

    void OnDocumentStart(const YAML::Mark&) override {}
    void OnDocumentEnd() override { done = true; }
    void OnNull(const YAML::Mark& m, YAML::anchor_t anchor) override {
        noAnchor(m, anchor);
        add(node(YNode::Kind::Null, m), m);
    }
    void OnAlias(const YAML::Mark& m, YAML::anchor_t) override {
        fail(m, "aliases (*name) are not allowed");
    }
    void OnScalar(const YAML::Mark& m, const std::string& tag, YAML::anchor_t anchor,
                  const std::string& value) override {
        noAnchor(m, anchor);
        if (tag != "?" && tag != "!") fail(m, "tags (" + tag + ") are not allowed");
        auto n = node(YNode::Kind::Scalar, m);
        n.value = value;
        n.plain = tag == "?";
        add(std::move(n), m);
    }
    void OnSequenceStart(const YAML::Mark& m, const std::string& tag, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override {
        open(m, tag, anchor, YNode::Kind::Sequence);
    }
    void OnSequenceEnd() override { stack_.pop_back(); }
    void OnMapStart(const YAML::Mark& m, const std::string& tag, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override {
        open(m, tag, anchor, YNode::Kind::Map);
    }
    void OnMapEnd() override {
        if (stack_.back()->items.size() % 2 != 0) fail({}, "a key has no value");
        stack_.pop_back();
    }
    void OnAnchor(const YAML::Mark& m, const std::string&) override {
        fail(m, "anchors (&name) are not allowed");
    }

  private:
    std::vector<YNode*> stack_;
    bool haveRoot_ = false;

    [[noreturn]] static void fail(const YAML::Mark& m, const std::string& msg) {
        throw StrictError{msg, m.line, m.column};
    }
    static void noAnchor(const YAML::Mark& m, YAML::anchor_t a) {
        if (a != YAML::NullAnchor) fail(m, "anchors (&name) are not allowed");
    }
    static YNode node(YNode::Kind k, const YAML::Mark& m) {
        YNode n;
        n.kind = k;
        n.line = m.line;
        n.column = m.column;
        return n;
    }
    void open(const YAML::Mark& m, const std::string& tag, YAML::anchor_t anchor, YNode::Kind k) {
        noAnchor(m, anchor);
        if (tag != "?" && tag != "" && tag != "!") fail(m, "tags (" + tag + ") are not allowed");
        if (stack_.size() >= kMaxDepth) fail(m, "nested too deeply");
        stack_.push_back(add(node(k, m), m));
    }
    YNode* add(YNode n, const YAML::Mark& m) {
        if (stack_.empty()) {
            if (haveRoot_) fail(m, "only one YAML document is allowed");
            haveRoot_ = true;
            root = std::move(n);
            return &root;
        }
        YNode* top = stack_.back();
        if (top->kind == YNode::Kind::Map && top->items.size() % 2 == 0) {
            if (n.kind != YNode::Kind::Scalar || !n.plain) fail(m, "keys must be plain words");
            for (std::size_t i = 0; i < top->items.size(); i += 2)
                if (top->items[i].value == n.value) fail(m, "key '" + n.value + "' appears twice");
        }
        // Only the innermost open node grows, so pointers to open nodes stay valid.
        top->items.push_back(std::move(n));
        return &top->items.back();
    }
};

class Reader {
  public:
    explicit Reader(std::string source) : source_(std::move(source)) {}

    [[noreturn]] void fail(const YNode& at, const std::string& msg) const {
        throw VerifyError(Reason::ManifestInvalid, source_ + ":" + std::to_string(at.line + 1) +
                                                       ":" + std::to_string(at.column + 1) + ": " +
                                                       msg);
    }

    // The map's values by key; unknown and missing keys refused.
    std::vector<const YNode*> fields(const YNode& map, const std::string& what,
                                     const std::vector<std::string>& keys) const {
        if (map.kind != YNode::Kind::Map)
            fail(map, what + " must be a map with keys " + joined(keys));
        std::vector<const YNode*> out(keys.size(), nullptr);
        for (std::size_t i = 0; i < map.items.size(); i += 2) {
            const auto& k = map.items[i];
            std::size_t idx = 0;
            while (idx < keys.size() && keys[idx] != k.value) ++idx;
            if (idx == keys.size())
                fail(k,
                     "unknown key '" + k.value + "' in " + what + " (known: " + joined(keys) + ")");
            out[idx] = &map.items[i + 1];
        }
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (!out[i]) fail(map, what + " has no '" + keys[i] + "'");
        return out;
    }

    std::string text(const YNode& n, const std::string& what) const {
        if (n.kind != YNode::Kind::Scalar || n.value.empty())
            fail(n, what + " must be a non-empty text");
        if (n.value.size() > 1024) fail(n, what + " is longer than 1024 characters");
        return n.value;
    }

    std::uint64_t number(const YNode& n, const std::string& what, std::size_t maxDigits) const {
        static const std::regex re("^(0|[1-9][0-9]*)$");
        if (n.kind != YNode::Kind::Scalar || !n.plain || n.value.size() > maxDigits ||
            !std::regex_match(n.value, re))
            fail(n, what + " must be a whole number written in decimal digits, without quotes");
        return std::stoull(n.value);
    }

    const YNode& sequence(const YNode& n, const std::string& what) const {
        if (n.kind != YNode::Kind::Sequence) fail(n, what + " must be a list");
        return n;
    }

  private:
    std::string source_;
    static std::string joined(const std::vector<std::string>& keys) {
        std::string s;
        for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k;
        return s;
    }
};

// A YAML double-quoted scalar. Not named quoted(): with <iomanip> in view, a call with a
// std::string would find std::quoted by argument-dependent lookup instead.
std::string yamlQuoted(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            static const char* d = "0123456789abcdef";
            out += "\\x";
            out += d[u >> 4];
            out += d[u & 15];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

}  // namespace

bool isSemver(std::string_view v) {
    static const std::regex re(
        "^(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})(-[0-9A-Za-z-]+(\\.[0-9A-"
        "Za-z-]+)*)?(\\+[0-9A-Za-z.-]+)?$");
    return std::regex_match(v.begin(), v.end(), re);
}

int compareSemver(std::string_view a, std::string_view b) {
    struct V {
        long long major = 0, minor = 0, patch = 0;
        std::vector<std::string> pre;
    };
    auto parse = [](std::string_view s) {
        V v;
        s = s.substr(0, s.find('+'));
        const auto dash = s.find('-');
        const std::string core(s.substr(0, dash));
        std::sscanf(core.c_str(), "%lld.%lld.%lld", &v.major, &v.minor, &v.patch);
        if (dash != std::string_view::npos) {
            std::string pre(s.substr(dash + 1));
            std::stringstream ss(pre);
            for (std::string part; std::getline(ss, part, '.');) v.pre.push_back(part);
        }
        return v;
    };
    const V x = parse(a), y = parse(b);
    for (auto [p, q] : {std::pair{x.major, y.major}, {x.minor, y.minor}, {x.patch, y.patch}})
        if (p != q) return p < q ? -1 : 1;
    // A pre-release comes before its release; identifiers compare numerically when numeric.
    if (x.pre.empty() || y.pre.empty())
        return x.pre.empty() == y.pre.empty() ? 0 : (x.pre.empty() ? 1 : -1);
    for (std::size_t i = 0; i < std::min(x.pre.size(), y.pre.size()); ++i) {
        const auto& p = x.pre[i];
        const auto& q = y.pre[i];
        const bool pn = p.find_first_not_of("0123456789") == std::string::npos;
        const bool qn = q.find_first_not_of("0123456789") == std::string::npos;
        if (pn && qn) {
            if (p.size() != q.size()) return p.size() < q.size() ? -1 : 1;
            if (p != q) return p < q ? -1 : 1;
        } else if (pn != qn) {
            return pn ? -1 : 1;
        } else if (p != q) {
            return p < q ? -1 : 1;
        }
    }
    if (x.pre.size() == y.pre.size()) return 0;
    return x.pre.size() < y.pre.size() ? -1 : 1;
}

bool isPluginId(std::string_view id) {
    static const std::regex re("^[a-z][a-z0-9]{1,30}$");
    return std::regex_match(id.begin(), id.end(), re);
}

SetManifest SetManifest::parse(std::string_view yaml, const std::string& source) {
    StrictBuilder b;
    try {
        std::istringstream in{std::string(yaml)};
        YAML::Parser parser(in);
        parser.HandleNextDocument(b);
        StrictBuilder rest;
        if (parser.HandleNextDocument(rest))
            throw StrictError{"only one YAML document is allowed", 0, 0};
    } catch (const StrictError& e) {
        throw VerifyError(Reason::ManifestInvalid, source + ":" + std::to_string(e.line + 1) + ":" +
                                                       std::to_string(e.column + 1) + ": " +
                                                       e.message);
    } catch (const YAML::Exception& e) {
        throw VerifyError(Reason::ManifestInvalid, source + ":" + std::to_string(e.mark.line + 1) +
                                                       ":" + std::to_string(e.mark.column + 1) +
                                                       ": not valid YAML: " + e.msg);
    }
    const Reader r(source);
    const auto top =
        r.fields(b.root, "the manifest",
                 {"name", "sequence", "region", "issued", "expires", "min_box_version", "plugins"});
    SetManifest m;
    m.name = r.text(*top[0], "name");
    m.sequence = static_cast<long long>(r.number(*top[1], "sequence", 15));
    if (m.sequence < 1) r.fail(*top[1], "sequence starts at 1");
    const auto region = r.fields(*top[2], "region", {"name", "hsa_id"});
    m.regionName = r.text(*region[0], "region name");
    m.regionHsaId = r.text(*region[1], "region hsa_id");
    if (!HsaId::parse(m.regionHsaId))
        r.fail(*region[1], "region hsa_id '" + m.regionHsaId + "' is not an HSA-id");
    m.issued = r.text(*top[3], "issued");
    if (!parseInstant(m.issued))
        r.fail(*top[3], "issued must be a date YYYY-MM-DD or a UTC time YYYY-MM-DDTHH:MM:SSZ");
    m.expires = r.text(*top[4], "expires");
    if (!parseInstant(m.expires))
        r.fail(*top[4], "expires must be a date YYYY-MM-DD or a UTC time YYYY-MM-DDTHH:MM:SSZ");
    if (*parseInstant(m.expires) <= *parseInstant(m.issued))
        r.fail(*top[4], "expires must come after issued");
    m.minBoxVersion = r.text(*top[5], "min_box_version");
    if (!isSemver(m.minBoxVersion)) r.fail(*top[5], "min_box_version must be a version like 1.2.0");
    for (const auto& p : r.sequence(*top[6], "plugins").items) {
        const auto f = r.fields(p, "a plugin", {"id", "version", "files"});
        ManifestPlugin plugin;
        plugin.id = r.text(*f[0], "plugin id");
        if (!isPluginId(plugin.id))
            r.fail(*f[0],
                   "plugin id '" + plugin.id +
                       "' must be 2-31 lower-case letters and digits, starting with a letter");
        plugin.version = r.text(*f[1], "version of " + plugin.id);
        if (!isSemver(plugin.version))
            r.fail(*f[1], "version of " + plugin.id + " must be a version like 1.2.0");
        std::set<std::string> paths;
        for (const auto& file : r.sequence(*f[2], "files of " + plugin.id).items) {
            const auto ff = r.fields(file, "a file of " + plugin.id, {"path", "sha256", "size"});
            ManifestFile mf;
            mf.path = r.text(*ff[0], "path");
            mf.sha256 = r.text(*ff[1], "sha256 of " + mf.path);
            static const std::regex hex("^[0-9a-f]{64}$");
            if (!std::regex_match(mf.sha256, hex))
                r.fail(*ff[1], "sha256 of " + plugin.id + "/" + mf.path +
                                   " must be 64 lower-case hex digits");
            mf.size = r.number(*ff[2], "size of " + plugin.id + "/" + mf.path, 12);
            if (!paths.insert(mf.path).second)
                r.fail(*ff[0], plugin.id + "/" + mf.path + " is listed twice");
            plugin.files.push_back(std::move(mf));
        }
        if (!paths.count("plugin.yaml"))
            r.fail(*f[2], "plugin " + plugin.id + " does not list its plugin.yaml");
        m.plugins.push_back(std::move(plugin));
    }
    return m;
}

std::string SetManifest::render() const {
    std::ostringstream o;
    o << "# A region-certified klinikbox plugin set. Written by `klinikbox pluginset create`;\n"
      << "# the region signs these exact bytes (pluginset.yaml.sig.N). Do not edit after "
         "signing.\n";
    o << "name: " << yamlQuoted(name) << "\n";
    o << "sequence: " << sequence << "\n";
    o << "region:\n  name: " << yamlQuoted(regionName) << "\n  hsa_id: " << yamlQuoted(regionHsaId) << "\n";
    o << "issued: " << yamlQuoted(issued) << "\n";
    o << "expires: " << yamlQuoted(expires) << "\n";
    o << "min_box_version: " << yamlQuoted(minBoxVersion) << "\n";
    o << "plugins:" << (plugins.empty() ? " []\n" : "\n");
    for (const auto& p : plugins) {
        o << "  - id: " << yamlQuoted(p.id) << "\n    version: " << yamlQuoted(p.version)
          << "\n    files:\n";
        for (const auto& f : p.files)
            o << "      - path: " << yamlQuoted(f.path) << "\n        size: " << f.size
              << "\n        sha256: " << yamlQuoted(f.sha256) << "\n";
    }
    return o.str();
}

}  // namespace klinikbox::pluginset
