#include "config/SecretValues.h"

#include <Poco/JSON/Array.h>

namespace klinikbox::config {

namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

bool isSecret(const Object::Ptr& node) { return node && node->has("writeOnly") && node->getValue<bool>("writeOnly"); }

Object::Ptr propertySchema(const Object::Ptr& node, const std::string& key) {
    if (!node) return nullptr;
    auto props = node->getObject("properties");
    return props ? props->getObject(key) : nullptr;
}

bool isObject(const Var& v) { return v.type() == typeid(Object::Ptr); }
bool isArray(const Var& v) { return v.type() == typeid(Array::Ptr); }

bool emptyScalar(const Var& v) { return v.isEmpty() || (v.isString() && v.extract<std::string>().empty()); }

Var masked(const Object::Ptr& node, const Var& v, bool inSecret);

Object::Ptr maskObject(const Object::Ptr& node, const Object::Ptr& o, bool inSecret) {
    Object::Ptr out = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    for (const auto& [k, v] : *o) {
        const auto child = propertySchema(node, k);
        out->set(k, masked(child, v, inSecret || isSecret(child)));
    }
    return out;
}

Var masked(const Object::Ptr& node, const Var& v, bool inSecret) {
    if (isObject(v)) return maskObject(node, v.extract<Object::Ptr>(), inSecret);
    if (isArray(v)) {
        const auto a = v.extract<Array::Ptr>();
        const auto items = node ? node->getObject("items") : nullptr;
        Array::Ptr out = new Array;
        for (std::size_t i = 0; i < a->size(); ++i) out->add(masked(items, a->get(static_cast<unsigned>(i)), inSecret || isSecret(items)));
        return out;
    }
    if (inSecret && !emptyScalar(v)) return std::string(kMaskedSecret);
    return v;
}

void restore(const Object::Ptr& node, Object::Ptr in, const Object::Ptr& prev, bool inSecret);

// Returns false when the value must be removed from its parent.
bool restoreValue(const Object::Ptr& node, Var& v, const Var* prev, bool inSecret) {
    if (isObject(v)) {
        restore(node, v.extract<Object::Ptr>(), prev && isObject(*prev) ? prev->extract<Object::Ptr>() : nullptr, inSecret);
        return true;
    }
    if (isArray(v)) {
        const auto a = v.extract<Array::Ptr>();
        const auto pa = prev && isArray(*prev) ? prev->extract<Array::Ptr>() : nullptr;
        const auto items = node ? node->getObject("items") : nullptr;
        Array::Ptr out = new Array;
        for (std::size_t i = 0; i < a->size(); ++i) {
            Var item = a->get(static_cast<unsigned>(i));
            Var p;
            const bool hasPrev = pa && i < pa->size();
            if (hasPrev) p = pa->get(static_cast<unsigned>(i));
            if (restoreValue(items, item, hasPrev ? &p : nullptr, inSecret || isSecret(items))) out->add(item);
        }
        v = out;
        return true;
    }
    if (inSecret && v.isString() && v.extract<std::string>() == kMaskedSecret) {
        if (!prev) return false;
        v = *prev;
    }
    return true;
}

void restore(const Object::Ptr& node, Object::Ptr in, const Object::Ptr& prev, bool inSecret) {
    std::vector<std::string> keys, removed;
    in->getNames(keys);
    for (const auto& k : keys) {
        const auto child = propertySchema(node, k);
        Var value = in->get(k);
        Var p;
        const bool hasPrev = prev && prev->has(k);
        if (hasPrev) p = prev->get(k);
        if (restoreValue(child, value, hasPrev ? &p : nullptr, inSecret || isSecret(child))) in->set(k, value);
        else removed.push_back(k);
    }
    for (const auto& k : removed) in->remove(k);
}

}  // namespace

Object::Ptr maskSecrets(const Object::Ptr& schemaJson, const Object::Ptr& values) {
    if (!values) return new Object;
    return maskObject(schemaJson, values, isSecret(schemaJson));
}

void restoreMaskedSecrets(const Object::Ptr& schemaJson, const Object::Ptr& incoming, const Object::Ptr& previous) {
    if (!incoming) return;
    restore(schemaJson, incoming, previous, isSecret(schemaJson));
}

}  // namespace klinikbox::config
