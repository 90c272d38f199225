// What the kiosk and the patient's phone show of a live Swish request. A request without a
// payer alias (m-commerce) can only be reached through its PaymentRequestToken: the kiosk
// shows it as a QR code the Swish app scans (drawn here, so no outside service sees it), and
// a phone opens the app with the app switch link, which brings the patient back to the
// visit's receipt. A request with the payer's number (e-commerce) appears in their app.
#include "CheckinPlugin.h"
#include "QrCode.h"

#include <Poco/URI.h>

namespace checkin::plugin {

Object::Ptr CheckinPlugin::swishView(const Payment& p, const std::string& sessionToken) const {
    if (p.method != "swish" || p.status != "created") return nullptr;
    Object::Ptr o = new Object;
    if (!p.payerAlias.empty()) {
        o->set("flow", "e-commerce");
        return o;
    }
    o->set("flow", "m-commerce");
    if (p.requestToken.empty()) return o;  // the answer is still on its way
    o->set("qr_svg", checkin::qrSvg(checkin::qrEncode(checkin::qrPayload(p.requestToken)), "Swish QR-kod"));
    // The page the Swish app returns to: this box's receipt of the visit (the session token
    // stays in the fragment, which no server sees).
    const Poco::URI cb(swish_.callbackUrl);
    std::string back = "https://" + cb.getAuthority() + "/plugins/checkin/receipt.html";
    if (!sessionToken.empty()) back += "#" + sessionToken;
    o->set("app_url", checkin::appSwitchUrl(p.requestToken, back));
    return o;
}

}  // namespace checkin::plugin
