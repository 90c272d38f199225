#include "server/Logging.h"

#include "http/LogRedaction.h"

#include <klinikbox/Personnummer.h>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/PatternFormatter.h>

namespace klinikbox::server {

namespace {

// Masks personnummer and redacts token-shaped URL segments in every message before it reaches a log file, whoever logged it.
class MaskingChannel final : public Poco::Channel {
public:
    explicit MaskingChannel(Poco::AutoPtr<Poco::Channel> next) : next_(std::move(next)) {}
    void log(const Poco::Message& msg) override {
        Poco::Message copy(msg);
        copy.setText(maskPersonnummerInText(http::redactTokenSegments(msg.getText())));
        next_->log(copy);
    }
    void open() override { next_->open(); }
    void close() override { next_->close(); }

private:
    Poco::AutoPtr<Poco::Channel> next_;
};

}  // namespace

void setupLogging(const std::string& level, const std::string& file) {
    Poco::AutoPtr<Poco::Channel> sink;
    if (file.empty()) {
        sink = new Poco::ConsoleChannel;  // stderr
    } else {
        auto* fc = new Poco::FileChannel(file);
        fc->setProperty("rotation", "50 M");
        fc->setProperty("archive", "timestamp");
        fc->setProperty("purgeCount", "10");
        sink = fc;
    }
    Poco::AutoPtr<Poco::PatternFormatter> fmt(new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t"));
    Poco::AutoPtr<Poco::Channel> formatting(new Poco::FormattingChannel(fmt, sink));
    Poco::AutoPtr<Poco::Channel> masking(new MaskingChannel(formatting));
    Poco::Logger::root().setChannel(masking);
    Poco::Logger::root().setLevel(level);
    // Loggers created before this call keep their old channel; update them all.
    std::vector<std::string> names;
    Poco::Logger::names(names);
    for (const auto& n : names) {
        Poco::Logger::get(n).setChannel(masking);
        Poco::Logger::get(n).setLevel(level);
    }
}

}  // namespace klinikbox::server
