// Money::parse: no crash, and an accepted amount prints back to an equal amount.
#include <klinikbox/Money.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto m = klinikbox::Money::parse(text)) {
        auto back = klinikbox::Money::parse(m->toDecimalString());
        if (!back || back->ore() != m->ore() || m->ore() < 0) std::abort();
        (void)m->toDisplaySv();
    }
    return 0;
}
