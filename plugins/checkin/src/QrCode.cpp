#include "QrCode.h"

#include <qrencode.h>

#include <memory>
#include <stdexcept>

namespace checkin {

QrMatrix qrEncode(const std::string& text) {
    std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
        QRcode_encodeData(static_cast<int>(text.size()), reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M),
        &QRcode_free);
    if (!code) throw std::runtime_error("the text does not fit a QR code");
    QrMatrix m;
    m.size = code->width;
    m.dark.resize(static_cast<std::size_t>(m.size) * static_cast<std::size_t>(m.size));
    for (std::size_t i = 0; i < m.dark.size(); ++i) m.dark[i] = (code->data[i] & 1) != 0;
    return m;
}

std::string qrSvg(const QrMatrix& m, const std::string& title) {
    const int quiet = 4, full = m.size + 2 * quiet;
    std::string escaped;
    for (char c : title) {
        if (c == '<') escaped += "&lt;";
        else if (c == '>') escaped += "&gt;";
        else if (c == '&') escaped += "&amp;";
        else if (c == '"') escaped += "&quot;";
        else escaped += c;
    }
    std::string path;
    for (int y = 0; y < m.size; ++y)
        for (int x = 0; x < m.size;) {
            if (!m.at(x, y)) {
                ++x;
                continue;
            }
            int run = 1;
            while (x + run < m.size && m.at(x + run, y)) ++run;
            path += "M" + std::to_string(x + quiet) + " " + std::to_string(y + quiet) + "h" + std::to_string(run) + "v1h-" +
                    std::to_string(run) + "z";
            x += run;
        }
    const std::string n = std::to_string(full);
    return R"(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 )" + n + " " + n + R"(" shape-rendering="crispEdges" role="img">)" +
           "<title>" + escaped + "</title>" + R"(<rect width=")" + n + R"(" height=")" + n + R"(" fill="#fff"/>)" + R"(<path fill="#000" d=")" +
           path + R"("/></svg>)";
}

}  // namespace checkin
