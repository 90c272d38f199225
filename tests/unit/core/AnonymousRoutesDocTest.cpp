// docs/security.md lists every anonymous route; this test derives the list from the code so
// the two cannot drift apart (issue 14, item 13). The running box's own list is checked
// against the same table in CoreServer.AnonymousRoutesOfTheRunningBoxAreDocumented.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

std::string readDoc(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// "METHOD path" of every route registered with Access::anyone() in the C++ sources under
// `root`. Fails the test for a use it cannot attribute to a route, so none is silently missed.
std::set<std::string> anonymousRoutesIn(const fs::path& root) {
    std::set<std::string> out;
    const std::regex route(R"re(add\(\s*"(GET|POST|PUT|PATCH|DELETE)"\s*,\s*"([^"]+)"\s*,\s*Access::anyone\(\))re");
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file() || e.path().extension() != ".cpp") continue;
        const auto text = readDoc(e.path());
        std::size_t uses = 0;
        for (std::size_t at = 0; (at = text.find("Access::anyone()", at)) != std::string::npos; at += 16) ++uses;
        std::size_t found = 0;
        for (std::sregex_iterator it(text.begin(), text.end(), route), end; it != end; ++it, ++found)
            out.insert((*it)[1].str() + " " + (*it)[2].str());
        EXPECT_EQ(found, uses) << e.path() << ": an Access::anyone() that is not `add(\"METHOD\", \"/path\", "
                                               "Access::anyone()`; register it that way so it is checked";
    }
    return out;
}

// Lua hook scripts may declare routes too; an anonymous one must be documented as well.
void expectNoAnonymousLuaRoutes(const fs::path& root) {
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file() || e.path().extension() != ".lua") continue;
        EXPECT_EQ(readDoc(e.path()).find("anonymous"), std::string::npos) << e.path();
    }
}

}  // namespace

TEST(AnonymousRoutes, DocumentedTableMatchesTheCode) {
    const fs::path src(KB_SOURCE_DIR);
    std::set<std::string> code = anonymousRoutesIn(src / "core" / "src");
    for (const auto& p : fs::directory_iterator(src / "plugins")) {
        if (!fs::is_directory(p.path() / "src")) continue;
        for (const auto& r : anonymousRoutesIn(p.path() / "src")) code.insert(r);
        expectNoAnonymousLuaRoutes(p.path());
    }

    const auto doc = readDoc(src / "docs" / "security.md");
    const auto section = doc.find("## Every anonymous route");
    ASSERT_NE(section, std::string::npos);
    const auto next = doc.find("\n## ", section + 1);
    const std::string table = doc.substr(section, next - section);
    std::set<std::string> documented;
    const std::regex row(R"re(\n\| `(GET|POST|PUT|PATCH|DELETE)` \| `([^`]+)` \|([^|\n]+)\|([^|\n]+)\|([^|\n]+)\|)re");
    for (std::sregex_iterator it(table.begin(), table.end(), row), end; it != end; ++it) {
        documented.insert((*it)[1].str() + " " + (*it)[2].str());
        for (int col = 3; col <= 5; ++col)  // credential, limit, what it reveals: none left empty
            EXPECT_NE((*it)[col].str().find_first_not_of(' '), std::string::npos) << (*it)[0].str();
    }

    for (const auto& r : code) EXPECT_TRUE(documented.count(r)) << r << " is anonymous in the code but not in docs/security.md";
    for (const auto& r : documented) EXPECT_TRUE(code.count(r)) << r << " is in docs/security.md but not an anonymous route";
    EXPECT_GE(code.size(), 6u);  // the core's own: health, readiness, metrics, OpenAPI, login, setup
}
