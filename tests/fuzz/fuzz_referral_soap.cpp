// The referral plugin's inbound SOAP parser (parseInbound over the hardened RIV-TA parser):
// any bytes give a parsed message or one of the declared errors, never a crash; a parsed
// ProcessRequest survives a rebuild and a second parse with the same content.
#include "Bodies.h"

#include <klinikbox/RivTa.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace {
void require(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace klinikbox;
    const std::string text(reinterpret_cast<const char*>(data), size);
    referral::Inbound in;
    try {
        in = referral::parseInbound(text, 1u << 20);
    } catch (const rivta::XmlError&) {
        return 0;
    } catch (const rivta::SoapFault&) {
        return 0;
    } catch (const referral::BodyError&) {
        return 0;
    }
    require(!in.operation.empty());
    if (in.operation == "ProcessRequest") {
        const auto again = referral::parseInbound(rivta::envelope(in.logicalAddress, referral::requestBody(in.request)), 1u << 22);
        require(again.request.requestId == in.request.requestId);
        require(again.request.question == in.request.question);
        require(again.request.attachments.size() == in.request.attachments.size());
    }
    return 0;
}
