// QR codes the box draws itself (no outside service sees a payment's token): the module
// matrix from libqrencode, drawn as an SVG image the kiosk shows.
#pragma once

#include <string>
#include <vector>

namespace checkin {

// The dark (true) and light modules of a QR code, row by row, without the quiet zone.
struct QrMatrix {
    int size = 0;
    std::vector<bool> dark;  // size * size
    [[nodiscard]] bool at(int x, int y) const { return dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(size) + static_cast<std::size_t>(x)]; }
};

// Byte mode, error correction level M (readable with the Swish logo's 25 % overlay absent);
// throws std::runtime_error when the text does not fit a QR code.
[[nodiscard]] QrMatrix qrEncode(const std::string& text);

// The matrix as a standalone SVG: black modules on white with a four-module quiet zone,
// one path, scalable (viewBox in modules), with the given accessible title.
[[nodiscard]] std::string qrSvg(const QrMatrix& m, const std::string& title);

}  // namespace checkin
