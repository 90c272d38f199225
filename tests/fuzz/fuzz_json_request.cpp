// A request body as the box parses it: Request::json() then strict field reading.
// Problem is the expected answer to bad input; anything else escaping is a bug.
#include <klinikbox/Http.h>
#include <klinikbox/JsonInput.h>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    klinikbox::Request req;
    req.headers["content-type"] = "application/json";
    req.body.assign(reinterpret_cast<const char*>(data), size);
    try {
        auto obj = req.json();
        klinikbox::JsonInput in(obj, {"name", "count", "flag"});
        (void)in.optStr("name", 100);
        (void)in.optInteger("count", 0, 1000);
        (void)in.optBoolean("flag");
    } catch (const klinikbox::Problem& p) {
        if (p.status() < 400 || p.status() > 499) std::abort();
    }
    return 0;
}
