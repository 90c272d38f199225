// Money::parse and formatting: no crash, no undefined behaviour (overflow included), and an
// accepted amount prints back to the same öre.
#include <klinikbox/Money.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

bool endsWith(const std::string& s, std::string_view tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto m = klinikbox::Money::parse(text)) {
        require(m->ore() >= 0 && m->ore() <= 99999999999999);
        auto back = klinikbox::Money::parse(m->toDecimalString());
        require(back && back->ore() == m->ore());
        require(endsWith(m->toDisplaySv(), " kr"));
        // A decimal comma and a decimal point mean the same.
        std::string other(text);
        for (char& c : other) c = c == ',' ? '.' : c == '.' ? ',' : c;
        auto swapped = klinikbox::Money::parse(other);
        require(swapped && swapped->ore() == m->ore());
    }
    // Formatting any öre value, INT64_MIN included, must be defined behaviour.
    if (size >= sizeof(std::int64_t)) {
        std::int64_t ore = 0;
        std::memcpy(&ore, data, sizeof ore);
        const auto m = klinikbox::Money::fromOre(ore);
        const auto s = m.toDecimalString();
        require(s.size() >= 4 && s[s.size() - 3] == '.');
        require(endsWith(m.toDisplaySv(), " kr"));
        if (ore >= 0 && ore <= 99999999999999) {
            auto back = klinikbox::Money::parse(s);
            require(back && back->ore() == ore);
        }
    }
    return 0;
}
