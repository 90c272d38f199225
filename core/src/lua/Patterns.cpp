#include "lua/Patterns.h"

#include "lua/Guard.h"

#include <lua.hpp>

#include <cstddef>
#include <cstdio>
#include <cstring>

// Every frame in this file holds plain data only: a Lua error (a callback's, or the budget
// running out) unwinds through it with longjmp.

namespace klinikbox::lua {

namespace {

constexpr int kMaxCaptures = 32;
constexpr int kMaxRecursion = 200;
constexpr long long kChargeEvery = 4096;
constexpr std::ptrdiff_t kUnfinished = -1;
constexpr std::ptrdiff_t kPosition = -2;

struct Matcher {
    lua_State* L;
    const char* srcInit;
    const char* srcEnd;
    const char* patEnd;
    int recursion;
    int level;
    struct {
        const char* init;
        std::ptrdiff_t len;
    } capture[kMaxCaptures];
    long long pending;
};

int uc(char c) { return static_cast<unsigned char>(c); }

void step(Matcher& m, long long n = 1) {
    m.pending += n;
    if (m.pending >= kChargeEvery) {
        const long long p = m.pending;
        m.pending = 0;
        chargeSteps(m.L, p);
    }
}

void flush(Matcher& m) {
    if (m.pending > 0) {
        const long long p = m.pending;
        m.pending = 0;
        chargeSteps(m.L, p);
    }
}

void init(Matcher& m, lua_State* L, const char* s, std::size_t ls, const char* p, std::size_t lp) {
    m.L = L;
    m.srcInit = s;
    m.srcEnd = s + ls;
    m.patEnd = p + lp;
    m.recursion = kMaxRecursion;
    m.level = 0;
    m.pending = 0;
}

void reset(Matcher& m) {
    m.level = 0;
    m.recursion = kMaxRecursion;
}

// Character classes in the "C" locale, independent of the process locale.
bool isAlpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(int c) { return c >= '0' && c <= '9'; }
bool isLower(int c) { return c >= 'a' && c <= 'z'; }
bool isUpper(int c) { return c >= 'A' && c <= 'Z'; }
bool isCntrl(int c) { return c < 32 || c == 127; }
bool isGraph(int c) { return c > 32 && c < 127; }
bool isSpace(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool isHex(int c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool classMatches(int c, int cl) {
    bool r;
    switch (isUpper(cl) ? cl + ('a' - 'A') : cl) {
        case 'a': r = isAlpha(c); break;
        case 'c': r = isCntrl(c); break;
        case 'd': r = isDigit(c); break;
        case 'g': r = isGraph(c); break;
        case 'l': r = isLower(c); break;
        case 'p': r = isGraph(c) && !isAlpha(c) && !isDigit(c); break;
        case 's': r = isSpace(c); break;
        case 'u': r = isUpper(c); break;
        case 'w': r = isAlpha(c) || isDigit(c); break;
        case 'x': r = isHex(c); break;
        default: return cl == c;
    }
    return isUpper(cl) ? !r : r;
}

// The end of the single-character class starting at p.
const char* classEnd(Matcher& m, const char* p) {
    const char c = *p++;
    if (c == '%') {
        if (p >= m.patEnd) luaL_error(m.L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        if (p < m.patEnd && *p == '^') ++p;
        for (;;) {  // the first character after '[' (or '[^') is never the closing ']'
            if (p >= m.patEnd) luaL_error(m.L, "malformed pattern (missing ']')");
            const char d = *p++;
            if (d == '%' && p < m.patEnd) ++p;
            if (p < m.patEnd && *p == ']') break;
        }
        return p + 1;
    }
    return p;
}

// c against the set [p .. ec], p at '[' and ec at ']'.
bool setMatches(Matcher& m, int c, const char* p, const char* ec) {
    bool found = true;
    if (p[1] == '^') {
        found = false;
        ++p;
    }
    step(m, (ec - p) / 8);
    while (++p < ec) {
        if (*p == '%') {
            ++p;
            if (classMatches(c, uc(*p))) return found;
        } else if (p[1] == '-' && p + 2 < ec) {
            p += 2;
            if (uc(p[-2]) <= c && c <= uc(*p)) return found;
        } else if (uc(*p) == c) {
            return found;
        }
    }
    return !found;
}

bool singleMatches(Matcher& m, const char* s, const char* p, const char* ep) {
    if (s >= m.srcEnd) return false;
    const int c = uc(*s);
    switch (*p) {
        case '.': return true;
        case '%': return classMatches(c, uc(p[1]));
        case '[': return setMatches(m, c, p, ep - 1);
        default: return uc(*p) == c;
    }
}

const char* doMatch(Matcher& m, const char* s, const char* p);

const char* maxExpand(Matcher& m, const char* s, const char* p, const char* ep) {
    std::ptrdiff_t i = 0;
    while (singleMatches(m, s + i, p, ep)) {
        ++i;
        step(m);
    }
    while (i >= 0) {
        if (const char* r = doMatch(m, s + i, ep + 1)) return r;
        --i;
        step(m);
    }
    return nullptr;
}

const char* minExpand(Matcher& m, const char* s, const char* p, const char* ep) {
    for (;;) {
        if (const char* r = doMatch(m, s, ep + 1)) return r;
        if (!singleMatches(m, s, p, ep)) return nullptr;
        ++s;
        step(m);
    }
}

const char* startCapture(Matcher& m, const char* s, const char* p, std::ptrdiff_t what) {
    if (m.level >= kMaxCaptures) luaL_error(m.L, "too many captures");
    m.capture[m.level].init = s;
    m.capture[m.level].len = what;
    ++m.level;
    const char* r = doMatch(m, s, p);
    if (!r) --m.level;
    return r;
}

const char* endCapture(Matcher& m, const char* s, const char* p) {
    int l = m.level - 1;
    while (l >= 0 && m.capture[l].len != kUnfinished) --l;
    if (l < 0) luaL_error(m.L, "invalid pattern capture");
    m.capture[l].len = s - m.capture[l].init;
    const char* r = doMatch(m, s, p);
    if (!r) m.capture[l].len = kUnfinished;
    return r;
}

const char* matchBalance(Matcher& m, const char* s, const char* p) {
    if (p + 1 >= m.patEnd) luaL_error(m.L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m.srcEnd || *s != *p) return nullptr;
    const char open = p[0], close = p[1];
    int depth = 1;
    while (++s < m.srcEnd) {
        step(m);
        if (*s == close) {
            if (--depth == 0) return s + 1;
        } else if (*s == open) {
            ++depth;
        }
    }
    return nullptr;
}

const char* matchBackReference(Matcher& m, const char* s, int c) {
    const int l = c - '1';
    if (l < 0 || l >= m.level || m.capture[l].len == kUnfinished) luaL_error(m.L, "invalid capture index %%%d", l + 1);
    const std::ptrdiff_t len = m.capture[l].len;
    if (len < 0) return nullptr;  // a position capture never matches text
    step(m, len);
    if (m.srcEnd - s >= len && std::memcmp(m.capture[l].init, s, static_cast<std::size_t>(len)) == 0) return s + len;
    return nullptr;
}

const char* doMatch(Matcher& m, const char* s, const char* p) {
    if (m.recursion-- == 0) luaL_error(m.L, "pattern too complex");
    step(m);
    for (;;) {
        if (p == m.patEnd) break;
        if (*p == '(') {
            if (p + 1 < m.patEnd && p[1] == ')') s = startCapture(m, s, p + 2, kPosition);
            else s = startCapture(m, s, p + 1, kUnfinished);
            break;
        }
        if (*p == ')') {
            s = endCapture(m, s, p + 1);
            break;
        }
        if (*p == '$' && p + 1 == m.patEnd) {
            if (s != m.srcEnd) s = nullptr;
            break;
        }
        if (*p == '%' && p + 1 < m.patEnd) {
            const char k = p[1];
            if (k == 'b') {
                s = matchBalance(m, s, p + 2);
                if (!s) break;
                p += 4;
                continue;
            }
            if (k == 'f') {
                p += 2;
                if (p >= m.patEnd || *p != '[') luaL_error(m.L, "missing '[' after '%%f' in pattern");
                const char* ep = classEnd(m, p);
                const int prev = s == m.srcInit ? 0 : uc(s[-1]);
                const int cur = s < m.srcEnd ? uc(*s) : 0;
                if (!setMatches(m, prev, p, ep - 1) && setMatches(m, cur, p, ep - 1)) {
                    p = ep;
                    continue;
                }
                s = nullptr;
                break;
            }
            if (isDigit(uc(k))) {
                s = matchBackReference(m, s, uc(k));
                if (!s) break;
                p += 2;
                continue;
            }
        }
        // A single-character class, perhaps with a quantifier.
        const char* ep = classEnd(m, p);
        const char q = ep < m.patEnd ? *ep : '\0';
        if (!singleMatches(m, s, p, ep)) {
            if (q == '*' || q == '?' || q == '-') {
                p = ep + 1;
                continue;
            }
            s = nullptr;
            break;
        }
        if (q == '?') {
            if (const char* r = doMatch(m, s + 1, ep + 1)) {
                s = r;
                break;
            }
            p = ep + 1;
            continue;
        }
        if (q == '+') {
            s = maxExpand(m, s + 1, p, ep);
            break;
        }
        if (q == '*') {
            s = maxExpand(m, s, p, ep);
            break;
        }
        if (q == '-') {
            s = minExpand(m, s, p, ep);
            break;
        }
        ++s;
        p = ep;
        step(m);
    }
    ++m.recursion;
    return s;
}

void pushCapture(Matcher& m, int i, const char* s, const char* e) {
    if (i >= m.level) {
        if (i != 0) luaL_error(m.L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(m.L, s, static_cast<std::size_t>(e - s));
        return;
    }
    const std::ptrdiff_t len = m.capture[i].len;
    if (len == kUnfinished) luaL_error(m.L, "unfinished capture");
    if (len == kPosition) lua_pushinteger(m.L, (m.capture[i].init - m.srcInit) + 1);
    else lua_pushlstring(m.L, m.capture[i].init, static_cast<std::size_t>(len));
}

// Pushes the captures (or the whole match when there are none and s is given).
int pushCaptures(Matcher& m, const char* s, const char* e) {
    const int n = (m.level == 0 && s) ? 1 : m.level;
    luaL_checkstack(m.L, n, "too many captures");
    for (int i = 0; i < n; ++i) pushCapture(m, i, s, e);
    return n;
}

std::size_t relativeStart(lua_Integer pos, std::size_t len) {
    if (pos > 0) return static_cast<std::size_t>(pos);
    if (pos == 0) return 1;
    if (pos < -static_cast<lua_Integer>(len)) return 1;
    return len + static_cast<std::size_t>(pos) + 1;
}

void checkSizes(lua_State* L, const char* fn, std::size_t ls, std::size_t lp) {
    const Limits& lim = guardOf(L)->limits;
    char msg[200];
    if (ls > lim.maxPatternSubject) {
        std::snprintf(msg, sizeof msg, "string.%s: the subject (%zu bytes) is longer than the limit of %zu bytes", fn, ls,
                      lim.maxPatternSubject);
        tripAndRaise(L, Trip::Violation, msg);
    }
    if (lp > lim.maxPatternLength) {
        std::snprintf(msg, sizeof msg, "string.%s: the pattern (%zu bytes) is longer than the limit of %zu bytes", fn, lp,
                      lim.maxPatternLength);
        tripAndRaise(L, Trip::Violation, msg);
    }
}

bool hasSpecials(const char* p, std::size_t lp) {
    for (std::size_t i = 0; i < lp; ++i)
        if (std::strchr("^$*+?.([%-", p[i]) && p[i] != '\0') return true;
    return false;
}

int findOrMatch(lua_State* L, bool find) {
    std::size_t ls = 0, lp = 0;
    const char* s = luaL_checklstring(L, 1, &ls);
    const char* p = luaL_checklstring(L, 2, &lp);
    checkSizes(L, find ? "find" : "match", ls, lp);
    const std::size_t start = relativeStart(luaL_optinteger(L, 3, 1), ls) - 1;
    if (start > ls) {
        luaL_pushfail(L);
        return 1;
    }
    Matcher m;
    init(m, L, s, ls, p, lp);
    if (find && (lua_toboolean(L, 4) || !hasSpecials(p, lp))) {
        // Plain search.
        const char* hay = s + start;
        const std::size_t hayLen = ls - start;
        if (lp == 0) {
            lua_pushinteger(L, static_cast<lua_Integer>(start) + 1);
            lua_pushinteger(L, static_cast<lua_Integer>(start));
            return 2;
        }
        if (lp <= hayLen) {
            const char* last = hay + (hayLen - lp);
            for (const char* c = hay; c <= last; ++c) {
                c = static_cast<const char*>(std::memchr(c, p[0], static_cast<std::size_t>(last - c) + 1));
                if (!c) break;
                step(m, static_cast<long long>(lp));
                if (std::memcmp(c, p, lp) == 0) {
                    flush(m);
                    lua_pushinteger(L, (c - s) + 1);
                    lua_pushinteger(L, (c - s) + static_cast<lua_Integer>(lp));
                    return 2;
                }
            }
        }
        flush(m);
        luaL_pushfail(L);
        return 1;
    }
    const bool anchor = lp > 0 && *p == '^';
    if (anchor) {
        ++p;
        --lp;
    }
    m.patEnd = p + lp;
    const char* s1 = s + start;
    do {
        reset(m);
        if (const char* e = doMatch(m, s1, p)) {
            flush(m);
            if (find) {
                lua_pushinteger(L, (s1 - s) + 1);
                lua_pushinteger(L, e - s);
                return pushCaptures(m, nullptr, nullptr) + 2;
            }
            return pushCaptures(m, s1, e);
        }
        step(m);
    } while (s1++ < m.srcEnd && !anchor);
    flush(m);
    luaL_pushfail(L);
    return 1;
}

// string.find(s, pattern [, init [, plain]]) -> start, end, captures... | fail
int strFind(lua_State* L) { return findOrMatch(L, true); }

// string.match(s, pattern [, init]) -> captures... | fail
int strMatch(lua_State* L) { return findOrMatch(L, false); }

struct GmatchState {
    std::size_t pos;           // where the next search starts
    std::ptrdiff_t lastMatch;  // end of the previous match, -1 before the first
};

// The iterator of string.gmatch: () -> captures... | nothing
int gmatchStep(lua_State* L) {
    std::size_t ls = 0, lp = 0;
    const char* s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char* p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    auto* st = static_cast<GmatchState*>(lua_touserdata(L, lua_upvalueindex(3)));
    Matcher m;
    init(m, L, s, ls, p, lp);
    for (std::size_t src = st->pos; src <= ls; ++src) {
        reset(m);
        const char* e = doMatch(m, s + src, p);
        if (e && (e - s) != st->lastMatch) {
            st->pos = static_cast<std::size_t>(e - s);
            st->lastMatch = e - s;
            flush(m);
            return pushCaptures(m, s + src, e);
        }
        step(m);
    }
    st->pos = ls + 1;
    flush(m);
    return 0;
}

// string.gmatch(s, pattern [, init]) -> iterator over the matches
int strGmatch(lua_State* L) {
    std::size_t ls = 0, lp = 0;
    luaL_checklstring(L, 1, &ls);
    luaL_checklstring(L, 2, &lp);
    checkSizes(L, "gmatch", ls, lp);
    std::size_t start = relativeStart(luaL_optinteger(L, 3, 1), ls) - 1;
    if (start > ls) start = ls + 1;
    lua_settop(L, 2);
    auto* st = static_cast<GmatchState*>(lua_newuserdatauv(L, sizeof(GmatchState), 0));
    st->pos = start;
    st->lastMatch = -1;
    lua_pushcclosure(L, gmatchStep, 3);
    return 1;
}

void addReplacementString(Matcher& m, luaL_Buffer* b, const char* s, const char* e) {
    lua_State* L = m.L;
    std::size_t l = 0;
    const char* news = lua_tolstring(L, 3, &l);
    const char* end = news + l;
    while (news < end) {
        const char* pct = static_cast<const char*>(std::memchr(news, '%', static_cast<std::size_t>(end - news)));
        if (!pct) break;
        luaL_addlstring(b, news, static_cast<std::size_t>(pct - news));
        ++pct;
        const char c = pct < end ? *pct : '\0';
        if (c == '%') {
            luaL_addchar(b, '%');
        } else if (c == '0') {
            luaL_addlstring(b, s, static_cast<std::size_t>(e - s));
        } else if (isDigit(uc(c))) {
            pushCapture(m, c - '1', s, e);
            luaL_tolstring(L, -1, nullptr);
            lua_remove(L, -2);
            luaL_addvalue(b);
        } else {
            luaL_error(L, "invalid use of '%%' in replacement string");
        }
        news = pct + 1;
        step(m);
    }
    if (news < end) luaL_addlstring(b, news, static_cast<std::size_t>(end - news));
}

// Adds the replacement of the match [s, e); false when it kept the original text.
bool addReplacement(Matcher& m, luaL_Buffer* b, const char* s, const char* e, int tr) {
    lua_State* L = m.L;
    if (tr == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        const int n = pushCaptures(m, s, e);
        lua_call(L, n, 1);
    } else if (tr == LUA_TTABLE) {
        pushCapture(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        addReplacementString(m, b, s, e);
        return true;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, static_cast<std::size_t>(e - s));
        return false;
    }
    if (!lua_isstring(L, -1)) luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return true;
}

// string.gsub(s, pattern, repl [, n]) -> string, count
int strGsub(lua_State* L) {
    std::size_t ls = 0, lp = 0;
    const char* src = luaL_checklstring(L, 1, &ls);
    const char* p = luaL_checklstring(L, 2, &lp);
    checkSizes(L, "gsub", ls, lp);
    const int tr = lua_type(L, 3);
    luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
                     "string/function/table");
    const lua_Integer maxN = luaL_optinteger(L, 4, static_cast<lua_Integer>(ls) + 1);
    lua_settop(L, 3);
    const bool anchor = lp > 0 && *p == '^';
    if (anchor) {
        ++p;
        --lp;
    }
    Matcher m;
    init(m, L, src, ls, p, lp);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char* lastMatch = nullptr;
    lua_Integer n = 0;
    bool changed = false;
    while (n < maxN) {
        reset(m);
        const char* e = doMatch(m, src, p);
        if (e && e != lastMatch) {
            ++n;
            changed = addReplacement(m, &b, src, e, tr) || changed;
            src = lastMatch = e;
        } else if (src < m.srcEnd) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor) break;
        step(m);
    }
    flush(m);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, static_cast<std::size_t>(m.srcEnd - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

}  // namespace

void installPatternFunctions(lua_State* L, int stringTableIndex) {
    const int t = lua_absindex(L, stringTableIndex);
    for (const auto& [name, fn] : {std::pair<const char*, lua_CFunction>{"find", strFind},
                                   {"match", strMatch},
                                   {"gmatch", strGmatch},
                                   {"gsub", strGsub}}) {
        lua_pushcfunction(L, fn);
        lua_setfield(L, t, name);
    }
}

}  // namespace klinikbox::lua
