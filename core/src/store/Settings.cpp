#include "store/Settings.h"

#include <chrono>

namespace klinikbox::store {

std::optional<std::string> Settings::get(const std::string& key) const {
    std::optional<std::string> out;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT value FROM kb_settings WHERE key=?");
        st.bind(1, key);
        if (st.step()) out = st.getText(0);
    });
    return out;
}

std::map<std::string, std::string> Settings::all() const {
    std::map<std::string, std::string> out;
    db_.read("core", [&](db::Connection& c) {
        auto st = c.prepare("SELECT key, value FROM kb_settings");
        while (st.step()) out.emplace(st.getText(0), st.getText(1));
    });
    return out;
}

void Settings::set(const std::map<std::string, std::string>& values, const std::string& by) {
    const long long now =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
    db_.write("core", [&](db::Connection& c) {
        for (const auto& [k, v] : values) {
            auto st = c.prepare(
                "INSERT INTO kb_settings(key, value, updated_at, updated_by) VALUES(?,?,?,?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at, "
                "updated_by=excluded.updated_by");
            st.bind(1, k).bind(2, v).bind(3, now).bind(4, by).exec();
        }
    });
}

}  // namespace klinikbox::store
