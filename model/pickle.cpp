#include "pickle.h"

#include "errors.h"

#include <cstring>
#include <limits>
#include <unordered_map>

namespace bft::pickle {

namespace {

// ---------------------------------------------------------------------------------------------
// Values. All live in the Unpickler's arena and refer to each other by raw pointer: no ownership
// cycles, no recursive destruction, whatever shape the input has.

enum class Kind { None, Bool, Int, BigInt, Float, Str, Bytes, Tuple, List, Dict, Global, Storage, Tensor };

struct Value {
    Kind kind = Kind::None;
    int64_t i = 0;
    double f = 0;
    std::string s;                 // Str, Bytes, BigInt bytes, Global "module.name"
    std::vector<Value*> items;     // Tuple, List; Dict: key, value, key, value, ...
    StorageRef storage;            // Storage
    int64_t offset = 0;            // Tensor
    std::vector<int64_t> sizes, strides;
    const Value* tensor_storage = nullptr;
};

const char* kind_name(Kind k)
{
    switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::BigInt: return "int";
    case Kind::Float: return "float";
    case Kind::Str: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
    }
    return "?";
}

// Storage classes a state dict may name, by the name torch.save writes.
struct StorageClass {
    const char* name;
    c10::ScalarType dtype;
};
constexpr StorageClass kStorageClasses[] = {
    {"FloatStorage", c10::ScalarType::Float},     {"DoubleStorage", c10::ScalarType::Double},
    {"HalfStorage", c10::ScalarType::Half},       {"BFloat16Storage", c10::ScalarType::BFloat16},
    {"LongStorage", c10::ScalarType::Long},       {"IntStorage", c10::ScalarType::Int},
    {"ShortStorage", c10::ScalarType::Short},     {"CharStorage", c10::ScalarType::Char},
    {"ByteStorage", c10::ScalarType::Byte},       {"BoolStorage", c10::ScalarType::Bool},
};

constexpr size_t kMaxValues = 50'000'000;  // arena cap: far above any real state dict's pickle
constexpr size_t kMaxStack = 10'000'000;
constexpr size_t kMaxMemo = 50'000'000;
constexpr int64_t kMaxDims = 32;

class Unpickler {
public:
    Unpickler(const uint8_t* data, size_t size, size_t pos, const std::string& source)
        : data_(data), size_(size), pos_(pos), source_(source)
    {
    }

    Value* load();
    size_t position() const { return pos_; }

private:
    [[noreturn]] void fail(const std::string& problem) const
    {
        throw Error(source_, problem + " (pickle offset " + std::to_string(op_pos_) + ")");
    }

    Value* make(Kind k)
    {
        if (arena_.size() >= kMaxValues)
            fail("pickle holds too many objects");
        arena_.push_back(std::make_unique<Value>());
        arena_.back()->kind = k;
        return arena_.back().get();
    }
    Value* make_int(int64_t v)
    {
        auto* x = make(Kind::Int);
        x->i = v;
        return x;
    }

    const uint8_t* take(size_t n)
    {
        if (n > size_ - pos_)
            fail("file ends inside the pickle (truncated?)");
        const uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }
    uint64_t read_le(size_t n)
    {
        const uint8_t* p = take(n);
        uint64_t v = 0;
        for (size_t k = 0; k < n; ++k)
            v |= uint64_t(p[k]) << (8 * k);
        return v;
    }
    std::string read_line()
    {
        const size_t start = pos_;
        while (pos_ < size_ && data_[pos_] != '\n') {
            if (pos_ - start > 256)
                fail("over-long name in the pickle");
            ++pos_;
        }
        if (pos_ >= size_)
            fail("file ends inside the pickle (truncated?)");
        std::string line(reinterpret_cast<const char*>(data_ + start), pos_ - start);
        ++pos_;
        return line;
    }
    std::string read_string(size_t n)
    {
        const uint8_t* p = take(n);
        return std::string(reinterpret_cast<const char*>(p), n);
    }

    void push(Value* v)
    {
        if (stack_.size() >= kMaxStack)
            fail("pickle stack too deep");
        stack_.push_back(v);
    }
    Value* pop()
    {
        if (stack_.size() <= stack_floor())
            fail("pickle stack underflow (corrupt file?)");
        Value* v = stack_.back();
        stack_.pop_back();
        return v;
    }
    Value* top()
    {
        if (stack_.size() <= stack_floor())
            fail("pickle stack underflow (corrupt file?)");
        return stack_.back();
    }
    size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
    std::vector<Value*> pop_mark()
    {
        if (marks_.empty())
            fail("pickle has no MARK where one is needed (corrupt file?)");
        const size_t m = marks_.back();
        marks_.pop_back();
        std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
        stack_.resize(m);
        return items;
    }
    void memo_put(uint64_t index)
    {
        if (memo_.size() >= kMaxMemo)
            fail("pickle memo too large");
        memo_[index] = top();
    }
    Value* memo_get(uint64_t index)
    {
        auto it = memo_.find(index);
        if (it == memo_.end())
            fail("pickle refers to memo entry " + std::to_string(index) + " that was never stored (corrupt file?)");
        return it->second;
    }

    Value* global(const std::string& module, const std::string& name);
    Value* reduce(Value* callable, Value* args);
    Value* persistent(Value* pid);
    void set_items(Value* dict, const std::vector<Value*>& kv);
    void append(Value* list, const std::vector<Value*>& items);
    std::vector<int64_t> int_tuple(const Value* v, const char* what);

    const uint8_t* data_;
    size_t size_;
    size_t pos_;
    size_t op_pos_ = 0;
    std::string source_;
    std::vector<std::unique_ptr<Value>> arena_;
    std::vector<Value*> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, Value*> memo_;
};

Value* Unpickler::global(const std::string& module, const std::string& name)
{
    const std::string full = module + "." + name;
    bool allowed = full == "collections.OrderedDict" || full == "torch._utils._rebuild_tensor_v2" ||
                   full == "torch._utils._rebuild_tensor" || full == "torch._utils._rebuild_parameter";
    if (module == "torch")
        for (const auto& sc : kStorageClasses)
            allowed = allowed || name == sc.name;
    if (!allowed)
        fail("refers to the Python object '" + full +
             "', which a state dict of tensors never contains; refusing to load it (only tensors, numbers, strings "
             "and containers are read)");
    auto* g = make(Kind::Global);
    g->s = full;
    return g;
}

std::vector<int64_t> Unpickler::int_tuple(const Value* v, const char* what)
{
    if (v->kind != Kind::Tuple && v->kind != Kind::List)
        fail(std::string("tensor ") + what + " is a " + kind_name(v->kind) + ", not a tuple");
    if (static_cast<int64_t>(v->items.size()) > kMaxDims)
        fail(std::string("tensor ") + what + " has too many dimensions");
    std::vector<int64_t> out;
    for (const Value* x : v->items) {
        if (x->kind != Kind::Int)
            fail(std::string("tensor ") + what + " holds a " + kind_name(x->kind));
        out.push_back(x->i);
    }
    return out;
}

Value* Unpickler::reduce(Value* callable, Value* args)
{
    if (callable->kind != Kind::Global)
        fail(std::string("REDUCE on a ") + kind_name(callable->kind) + " (corrupt file?)");
    if (args->kind != Kind::Tuple)
        fail("REDUCE arguments are not a tuple (corrupt file?)");
    const std::string& fn = callable->s;
    const auto& a = args->items;
    if (fn == "collections.OrderedDict") {
        auto* d = make(Kind::Dict);
        if (a.empty())
            return d;
        // Python 2's OrderedDict pickles its items as one argument: [[key, value], ...].
        if (a.size() == 1 && a[0]->kind == Kind::List) {
            for (Value* pair : a[0]->items) {
                if ((pair->kind != Kind::List && pair->kind != Kind::Tuple) || pair->items.size() != 2)
                    fail("OrderedDict item is not a [key, value] pair");
                d->items.push_back(pair->items[0]);
                d->items.push_back(pair->items[1]);
            }
            return d;
        }
        fail("unsupported OrderedDict arguments");
    }
    if (fn == "torch._utils._rebuild_parameter") {
        if (a.size() < 1 || a[0]->kind != Kind::Tensor)
            fail("_rebuild_parameter without a tensor");
        return a[0];
    }
    if (fn == "torch._utils._rebuild_tensor_v2" || fn == "torch._utils._rebuild_tensor") {
        // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
        if (a.size() < 4)
            fail(fn + " with " + std::to_string(a.size()) + " arguments");
        if (a[0]->kind != Kind::Storage)
            fail("tensor without a storage");
        if (a[1]->kind != Kind::Int)
            fail("tensor storage offset is not an integer");
        auto* t = make(Kind::Tensor);
        t->tensor_storage = a[0];
        t->offset = a[1]->i;
        t->sizes = int_tuple(a[2], "size");
        t->strides = int_tuple(a[3], "stride");
        if (t->sizes.size() != t->strides.size())
            fail("tensor size and stride differ in length");
        return t;
    }
    fail("cannot call '" + fn + "' (it is a storage class)");
}

Value* Unpickler::persistent(Value* pid)
{
    // ('storage', StorageClass, key, location, numel[, view_metadata])
    if (pid->kind != Kind::Tuple || pid->items.size() < 5 || pid->items[0]->kind != Kind::Str ||
        pid->items[0]->s != "storage")
        fail("unsupported persistent reference (not a tensor storage)");
    const auto& a = pid->items;
    if (a[1]->kind != Kind::Global)
        fail("storage type is not a storage class");
    auto* st = make(Kind::Storage);
    bool known = false;
    for (const auto& sc : kStorageClasses)
        if (a[1]->s == std::string("torch.") + sc.name) {
            st->storage.dtype = sc.dtype;
            known = true;
        }
    if (!known)
        fail("'" + a[1]->s + "' is not a storage class");
    if (a[2]->kind != Kind::Str || a[3]->kind != Kind::Str || a[4]->kind != Kind::Int)
        fail("malformed storage reference");
    st->storage.key = a[2]->s;
    st->storage.location = a[3]->s;
    st->storage.numel = a[4]->i;
    if (st->storage.numel < 0)
        fail("storage with a negative size");
    if (a.size() >= 6 && a[5]->kind != Kind::None) {
        const Value* v = a[5];
        if (v->kind != Kind::Tuple || v->items.size() != 3 || v->items[0]->kind != Kind::Str ||
            v->items[1]->kind != Kind::Int || v->items[2]->kind != Kind::Int)
            fail("malformed storage view");
        st->storage.is_view = true;
        st->storage.view_offset = v->items[1]->i;
        st->storage.view_numel = v->items[2]->i;
    }
    return st;
}

void Unpickler::set_items(Value* dict, const std::vector<Value*>& kv)
{
    if (dict->kind != Kind::Dict)
        fail(std::string("SETITEM on a ") + kind_name(dict->kind));
    if (kv.size() % 2 != 0)
        fail("odd number of dict items");
    for (Value* v : kv)
        dict->items.push_back(v);
}

void Unpickler::append(Value* list, const std::vector<Value*>& items)
{
    if (list->kind != Kind::List)
        fail(std::string("APPEND on a ") + kind_name(list->kind));
    list->items.insert(list->items.end(), items.begin(), items.end());
}

Value* Unpickler::load()
{
    while (true) {
        op_pos_ = pos_;
        const uint8_t op = *take(1);
        switch (op) {
        case 0x80: { // PROTO
            const uint8_t proto = *take(1);
            if (proto > 5)
                fail("pickle protocol " + std::to_string(proto) + " is not supported");
            break;
        }
        case 0x95: take(8); break; // FRAME: a hint only
        case '.': {                // STOP
            Value* v = pop();
            return v;
        }
        case '(': marks_.push_back(stack_.size()); break;
        case '0': pop(); break;
        case '1': pop_mark(); break;
        case '2': push(top()); break;
        case 'N': push(make(Kind::None)); break;
        case 0x88:
        case 0x89: {
            auto* b = make(Kind::Bool);
            b->i = op == 0x88;
            push(b);
            break;
        }
        case 'J': push(make_int(static_cast<int32_t>(read_le(4)))); break;
        case 'K': push(make_int(static_cast<int64_t>(read_le(1)))); break;
        case 'M': push(make_int(static_cast<int64_t>(read_le(2)))); break;
        case 0x8a:   // LONG1
        case 0x8b: { // LONG4
            const uint64_t n = op == 0x8a ? read_le(1) : read_le(4);
            if (n > 64)
                fail("integer too large");
            const uint8_t* p = take(static_cast<size_t>(n));
            if (n <= 8) {
                uint64_t v = 0;
                for (uint64_t k = 0; k < n; ++k)
                    v |= uint64_t(p[k]) << (8 * k);
                if (n > 0 && n < 8 && (p[n - 1] & 0x80))
                    v |= ~uint64_t(0) << (8 * n); // sign-extend
                push(make_int(static_cast<int64_t>(v)));
            } else {
                auto* big = make(Kind::BigInt);
                big->s.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
                push(big);
            }
            break;
        }
        case 'G': { // BINFLOAT, big-endian
            uint64_t bits = 0;
            const uint8_t* p = take(8);
            for (int k = 0; k < 8; ++k)
                bits = (bits << 8) | p[k];
            auto* f = make(Kind::Float);
            std::memcpy(&f->f, &bits, 8);
            push(f);
            break;
        }
        case 'U':                                    // SHORT_BINSTRING (Python 2 str)
        case 'T':                                    // BINSTRING
        case 'X':                                    // BINUNICODE
        case 0x8c:                                   // SHORT_BINUNICODE
        case 0x8d:                                   // BINUNICODE8
        case 'C':                                    // SHORT_BINBYTES
        case 'B':                                    // BINBYTES
        case 0x8e: {                                 // BINBYTES8
            const size_t width = (op == 'U' || op == 0x8c || op == 'C') ? 1 : (op == 0x8d || op == 0x8e) ? 8 : 4;
            const uint64_t n = read_le(width);
            if (n > size_ - pos_)
                fail("string runs past the end of the file (truncated?)");
            auto* s = make((op == 'C' || op == 'B' || op == 0x8e) ? Kind::Bytes : Kind::Str);
            s->s = read_string(static_cast<size_t>(n));
            push(s);
            break;
        }
        case ')': push(make(Kind::Tuple)); break;
        case 't': {
            auto* t = make(Kind::Tuple);
            t->items = pop_mark();
            push(t);
            break;
        }
        case 0x85:
        case 0x86:
        case 0x87: {
            const size_t n = op - 0x84;
            auto* t = make(Kind::Tuple);
            t->items.resize(n);
            for (size_t k = n; k-- > 0;)
                t->items[k] = pop();
            push(t);
            break;
        }
        case ']': push(make(Kind::List)); break;
        case 'l': {
            auto* l = make(Kind::List);
            l->items = pop_mark();
            push(l);
            break;
        }
        case 'a': {
            Value* v = pop();
            append(top(), {v});
            break;
        }
        case 'e': {
            auto items = pop_mark();
            append(top(), items);
            break;
        }
        case '}': push(make(Kind::Dict)); break;
        case 'd': {
            auto* d = make(Kind::Dict);
            set_items(d, pop_mark());
            push(d);
            break;
        }
        case 's': {
            Value* v = pop();
            Value* k = pop();
            set_items(top(), {k, v});
            break;
        }
        case 'u': {
            auto kv = pop_mark();
            set_items(top(), kv);
            break;
        }
        case 'c': { // GLOBAL
            std::string module = read_line();
            std::string name = read_line();
            push(global(module, name));
            break;
        }
        case 0x93: { // STACK_GLOBAL
            Value* name = pop();
            Value* module = pop();
            if (name->kind != Kind::Str || module->kind != Kind::Str)
                fail("STACK_GLOBAL without names");
            push(global(module->s, name->s));
            break;
        }
        case 'R': {
            Value* args = pop();
            Value* fn = pop();
            push(reduce(fn, args));
            break;
        }
        case 'b': { // BUILD: only an OrderedDict's attributes (state_dict._metadata), which we drop
            Value* state = pop();
            Value* obj = top();
            if (obj->kind != Kind::Dict || (state->kind != Kind::Dict && state->kind != Kind::None))
                fail(std::string("cannot set the state of a ") + kind_name(obj->kind));
            break;
        }
        case 'Q': push(persistent(pop())); break;
        case 'q': memo_put(read_le(1)); break;
        case 'r': memo_put(read_le(4)); break;
        case 0x94: memo_put(memo_.size()); break;
        case 'h': push(memo_get(read_le(1))); break;
        case 'j': push(memo_get(read_le(4))); break;
        default: {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", op);
            fail(std::string("unsupported pickle opcode ") + hex + " (not a PyTorch state dict, or corrupt)");
        }
        }
    }
}

const Value* find_key(const Value* dict, const std::string& key)
{
    for (size_t k = 0; k + 1 < dict->items.size(); k += 2)
        if (dict->items[k]->kind == Kind::Str && dict->items[k]->s == key)
            return dict->items[k + 1];
    return nullptr;
}

} // namespace

std::vector<TensorRecord> read_state_dict(const uint8_t* data, size_t size, size_t begin, size_t* end,
                                          const std::string& source)
{
    if (begin > size)
        throw Error(source, "file is truncated");
    Unpickler up(data, size, begin, source);
    const Value* root = up.load();
    if (end)
        *end = up.position();
    if (root->kind != Kind::Dict)
        throw Error(source, std::string("holds a pickled ") + kind_name(root->kind) +
                                ", not a state dict (a dict of tensors)");
    // Training scripts often wrap the weights: {"state_dict": {...}, "epoch": ...}.
    if (const Value* inner = find_key(root, "state_dict"); inner && inner->kind == Kind::Dict)
        root = inner;
    std::vector<TensorRecord> out;
    for (size_t k = 0; k + 1 < root->items.size(); k += 2) {
        const Value* key = root->items[k];
        const Value* val = root->items[k + 1];
        if (key->kind != Kind::Str)
            throw Error(source, std::string("state dict key is a ") + kind_name(key->kind) + ", not a string");
        if (val->kind != Kind::Tensor)
            throw Error(source, "entry '" + key->s + "' is a " + kind_name(val->kind) + ", not a tensor");
        TensorRecord r;
        r.name = key->s;
        r.storage = val->tensor_storage->storage;
        r.offset = val->offset;
        r.sizes = val->sizes;
        r.strides = val->strides;
        out.push_back(std::move(r));
    }
    if (out.empty())
        throw Error(source, "state dict is empty");
    return out;
}

SimpleValue read_simple(const uint8_t* data, size_t size, size_t begin, size_t* end, const std::string& source)
{
    if (begin > size)
        throw Error(source, "file is truncated");
    Unpickler up(data, size, begin, source);
    const Value* v = up.load();
    if (end)
        *end = up.position();
    SimpleValue out;
    if (v->kind == Kind::Int) {
        out.kind = SimpleValue::Kind::Int;
        out.integer = v->i;
    } else if (v->kind == Kind::BigInt) {
        out.kind = SimpleValue::Kind::BigInt;
        out.big = v->s;
    } else if (v->kind == Kind::Dict) {
        out.kind = SimpleValue::Kind::Dict;
    } else if (v->kind == Kind::List) {
        out.kind = SimpleValue::Kind::StringList;
        for (const Value* x : v->items) {
            if (x->kind != Kind::Str)
                throw Error(source, "storage key list holds a non-string");
            out.strings.push_back(x->s);
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Writer

std::string storage_class(c10::ScalarType dtype)
{
    for (const auto& sc : kStorageClasses)
        if (sc.dtype == dtype)
            return sc.name;
    throw Error(std::string("no storage class for dtype ") + c10::toString(dtype));
}

namespace {

class Pickler {
public:
    std::string out;

    void op(uint8_t c) { out.push_back(static_cast<char>(c)); }
    void le(uint64_t v, int n)
    {
        for (int k = 0; k < n; ++k)
            out.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
    }
    void integer(int64_t v)
    {
        if (v >= 0 && v < 256) {
            op('K');
            le(static_cast<uint64_t>(v), 1);
        } else if (v >= 0 && v < 65536) {
            op('M');
            le(static_cast<uint64_t>(v), 2);
        } else if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
            op('J');
            le(static_cast<uint64_t>(static_cast<uint32_t>(static_cast<int32_t>(v))), 4);
        } else {
            op(0x8a);
            le(8, 1);
            le(static_cast<uint64_t>(v), 8);
        }
    }
    void unicode(const std::string& s)
    {
        op('X');
        le(s.size(), 4);
        out += s;
    }
    void global(const std::string& module, const std::string& name)
    {
        op('c');
        out += module + "\n" + name + "\n";
    }
    void int_tuple(const std::vector<int64_t>& v)
    {
        if (v.empty()) {
            op(')');
            return;
        }
        op('(');
        for (int64_t x : v)
            integer(x);
        op('t');
    }
};

} // namespace

std::string write_state_dict(const std::vector<TensorDesc>& tensors)
{
    Pickler p;
    p.op(0x80);
    p.le(2, 1);
    p.global("collections", "OrderedDict");
    p.op(')');
    p.op('R');
    p.op('(');
    for (size_t k = 0; k < tensors.size(); ++k) {
        const auto& t = tensors[k];
        int64_t numel = 1;
        std::vector<int64_t> strides(t.sizes.size());
        for (size_t d = t.sizes.size(); d-- > 0;) {
            strides[d] = numel;
            numel *= t.sizes[d];
        }
        p.unicode(t.name);
        p.global("torch._utils", "_rebuild_tensor_v2");
        p.op('(');
        // persistent id ('storage', torch.<Class>, key, 'cpu', numel)
        p.op('(');
        p.unicode("storage");
        p.global("torch", storage_class(t.dtype));
        p.unicode(std::to_string(k));
        p.unicode("cpu");
        p.integer(numel);
        p.op('t');
        p.op('Q');
        p.integer(0);
        p.int_tuple(t.sizes);
        p.int_tuple(strides);
        p.op(0x89); // requires_grad = False
        p.global("collections", "OrderedDict");
        p.op(')');
        p.op('R');
        p.op('t');
        p.op('R');
    }
    p.op('u');
    p.op('.');
    return p.out;
}

} // namespace bft::pickle
