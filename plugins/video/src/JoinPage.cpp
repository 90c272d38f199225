#include "JoinPage.h"

namespace klinikbox::video {

const std::string& joinPageHtml() {
    static const std::string html = R"(<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Videobesök</title>
<link rel="stylesheet" href="/plugins/video/join.css">
<script type="module" src="/plugins/video/join.js"></script>
</head>
<body>
<main id="video-join">
<h1>Videobesök</h1>
<p id="status" role="status" aria-live="polite">Laddar …</p>
<dl id="visit" hidden></dl>
<div id="actions">
<button type="button" id="identify" hidden>Legitimera dig med BankID</button>
<a id="bankid" hidden>Öppna BankID på den här enheten</a>
<a id="meeting" hidden>Gå till videomötet</a>
</div>
<noscript>Sidan behöver JavaScript för att fungera.</noscript>
</main>
</body>
</html>
)";
    return html;
}

}  // namespace klinikbox::video
