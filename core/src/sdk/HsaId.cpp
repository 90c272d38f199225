#include <klinikbox/HsaId.h>

namespace klinikbox {

std::optional<HsaId> HsaId::parse(std::string_view text) {
    // SE + 10-12 digit organisation number + '-' + [A-Za-z0-9]+, at most 31 characters.
    if (text.size() < 2 + 10 + 2 || text.size() > 31) return std::nullopt;
    if (text[0] != 'S' || text[1] != 'E') return std::nullopt;
    std::size_t i = 2;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    const std::size_t orgDigits = i - 2;
    if (orgDigits < 10 || orgDigits > 12 || i >= text.size() || text[i] != '-') return std::nullopt;
    ++i;
    if (i >= text.size()) return std::nullopt;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!ok) return std::nullopt;
    }
    return HsaId(std::string(text));
}

}  // namespace klinikbox
