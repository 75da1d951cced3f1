// Write bodies: one SAX pass that records what each object of the body
// holds, then a check in declared order that names the first failure.
#include "model/body.hpp"

#include <cstdint>
#include <limits>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/value_rules.hpp"

namespace cqrs {

namespace {

using json = nlohmann::json;

constexpr uint32_t none = std::numeric_limits<uint32_t>::max();

// What the body has shown of one slot of one row: a column, or an owned
// field (slots after the columns, in the node's `children` order).
struct slot_state {
  bool seen = false;
  /// A column's value, or an owned field that is not an object (single) or
  /// not an array (many), as `wrong_type`.
  value_fault fault = value_fault::none;
  /// Owned array: more than `max_items` items.
  bool too_many = false;
  /// Owned field: the first row (a single child, or item 0), and the last
  /// item's row; items link through `row_info::next`.
  uint32_t first = none;
  uint32_t last = none;
  /// Owned array: the index of the first item that is not an object.
  uint32_t first_bad = none;
};

// Where a row sits in the body.
struct row_info {
  uint32_t parent = none;
  /// The row's index in its parent's array.
  uint32_t item = 0;
  /// The next item of the same array.
  uint32_t next = none;
  /// Offset of the row's slots in `body_reader::slots_`.
  uint32_t slots = 0;
  /// Index into `body_reader::unknown_` of the first unknown field.
  uint32_t first_unknown = none;
};

// An open JSON container.
enum class frame_kind : uint8_t { row, items, skip_object, skip_array };

struct frame {
  frame_kind kind = frame_kind::skip_object;
  /// row: the row; items: the row that owns the array.
  uint32_t row = none;
  /// row: the slot of the last key (none when unknown or repeated);
  /// items: the owned field's slot in `row`.
  uint32_t slot = none;
  /// items, skip_array: items so far.
  uint32_t count = 0;
  /// row, skip_object: a number unique within the body, for `keys_`.
  uint64_t object = 0;
  /// Length of `path_` that names this container.
  size_t path = 0;
};

// The SAX handler. One per thread, reused, so that a body costs no
// allocation beyond the command it yields (and the error, if any).
class body_reader {
public:
  // -- one body ---------------------------------------------------------------

  void reset(const domain& d, const resource_decl& r) {
    domain_ = &d;
    resource_ = &r;
    rows_.clear();
    infos_.clear();
    slots_.clear();
    stack_.clear();
    unknown_.clear();
    keys_.clear();
    path_.clear();
    objects_ = 0;
    overflow_ = false;
    overflow_path_.clear();
    error_at_ = 0;
    not_object_ = false;
    duplicate_.clear();
  }

  /// After a successful parse: the first failure in check order, or the
  /// rows in declared order.
  bool finish(command& cmd, validation_error& err) {
    if (not_object_) {
      err.message = "body must be a JSON object";
      return false;
    }
    if (!duplicate_.empty()) {
      err.message = "duplicate key '" + duplicate_ + "'";
      return false;
    }
    order_.clear();
    if (!check_row(0, err))
      return false;
    position_.assign(rows_.size(), 0);
    cmd.rows.reserve(order_.size());
    for (auto r : order_) {
      position_[r] = static_cast<uint32_t>(cmd.rows.size());
      auto& row = rows_[r];
      auto parent = infos_[r].parent;
      row.parent =
          parent == none ? -1 : static_cast<int32_t>(position_[parent]);
      cmd.rows.push_back(std::move(row));
    }
    return true;
  }

  /// After a failed parse.
  std::string syntax_message() const {
    // A number beyond the double range is valid JSON: name its field.
    if (overflow_ && !overflow_path_.empty())
      return "field '" + overflow_path_ +
             "' is out of range (a number beyond the range of a double)";
    return std::string{"request body is not valid JSON ("} +
           (overflow_ ? "a number out of range" : "error") + " near byte " +
           std::to_string(error_at_) + ")";
  }

  /// Drops scratch space that a huge body made grow.
  void trim() {
    constexpr size_t keep = 4096;
    if (stack_.capacity() > keep || rows_.capacity() > keep ||
        slots_.capacity() > 4 * keep || path_.capacity() > 4 * keep ||
        keys_.bucket_count() > keep)
      *this = body_reader{};
  }

  // -- SAX events -------------------------------------------------------------

  bool null() {
    if (auto c = column_target())
      store(*c, field_value{});
    return true;
  }

  bool boolean(bool x) {
    if (auto c = column_target())
      column(*c).type == column_type::boolean
          ? store(*c, field_value::of_boolean(x))
          : fail(*c, value_fault::wrong_type);
    return true;
  }

  bool number_integer(int64_t x) {
    if (auto c = column_target())
      put_integer(*c, x);
    return true;
  }

  bool number_unsigned(uint64_t x) {
    if (auto c = column_target()) {
      if (x <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        put_integer(*c, static_cast<int64_t>(x));
      else
        put_wide(*c, static_cast<double>(x), true);
    }
    return true;
  }

  bool number_float(double x, const std::string& text) {
    if (auto c = column_target())
      put_wide(*c, x, text.find_first_of(".eE") == std::string::npos);
    return true;
  }

  bool string(std::string& x) {
    if (auto c = column_target()) {
      const auto& col = column(*c);
      if (col.type != column_type::text)
        fail(*c, value_fault::wrong_type);
      else if (auto fault = check_text(col, x); fault != value_fault::none)
        fail(*c, fault);
      else
        store(*c, field_value::of_text(std::move(x)));
    }
    return true;
  }

  bool binary(json::binary_t&) {
    return false; // not in JSON text
  }

  bool start_object(size_t) {
    open(true);
    return true;
  }

  bool start_array(size_t) {
    open(false);
    return true;
  }

  bool end_object() {
    stack_.pop_back();
    return true;
  }

  bool end_array() {
    stack_.pop_back();
    return true;
  }

  bool key(std::string& name) {
    auto& f = stack_.back();
    path_.resize(f.path);
    bool repeated = false;
    if (f.kind == frame_kind::row) {
      f.slot = slot_of(f.row, name);
      if (f.slot != none) {
        auto& s = slots_[infos_[f.row].slots + f.slot];
        repeated = s.seen;
        s.seen = true;
        if (repeated)
          f.slot = none;
      } else {
        repeated = !remember(f.object, name);
        auto& info = infos_[f.row];
        if (!repeated && info.first_unknown == none) {
          info.first_unknown = static_cast<uint32_t>(unknown_.size());
          unknown_.push_back(name);
        }
      }
    } else {
      repeated = !remember(f.object, name);
    }
    path_ += '.';
    path_ += name;
    if (repeated && duplicate_.empty())
      duplicate_ = path_;
    return true;
  }

  bool parse_error(size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) {
    overflow_ = ex.id == 406;
    error_at_ = position;
    if (overflow_)
      overflow_path_ = path_;
    return false;
  }

private:
  // -- the declaration --------------------------------------------------------

  const resource_node& node_of(uint32_t row) const {
    return resource_->nodes[rows_[row].node];
  }

  const table_decl& table_of(uint32_t row) const {
    return domain_->tables[node_of(row).table];
  }

  // A column slot: the row and the column index.
  struct column_ref {
    uint32_t row;
    uint32_t column;
  };

  const column_decl& column(column_ref c) const {
    return table_of(c.row).columns[c.column];
  }

  slot_state& slot(uint32_t row, uint32_t index) {
    return slots_[infos_[row].slots + index];
  }

  // The slot `name` names in `row`'s object, or none. A child's `by` column
  // is no field of its object.
  uint32_t slot_of(uint32_t row, std::string_view name) const {
    const auto& n = node_of(row);
    const auto& columns = domain_->tables[n.table].columns;
    for (size_t i = 0; i < columns.size(); ++i)
      if (columns[i].name == name)
        return n.parent >= 0 && i == n.by ? none : static_cast<uint32_t>(i);
    for (size_t i = 0; i < n.children.size(); ++i)
      if (resource_->nodes[n.children[i]].field == name)
        return static_cast<uint32_t>(columns.size() + i);
    return none;
  }

  // Records `name` as a key of object `object`; false when it already was.
  bool remember(uint64_t object, std::string_view name) {
    std::string k(reinterpret_cast<const char*>(&object), sizeof(object));
    k += name;
    return keys_.insert(std::move(k)).second;
  }

  uint32_t new_row(size_t node, uint32_t parent, uint32_t item) {
    auto index = static_cast<uint32_t>(rows_.size());
    const auto& n = resource_->nodes[node];
    rows_.emplace_back();
    rows_.back().node = static_cast<uint16_t>(node);
    rows_.back().values.resize(domain_->tables[n.table].columns.size());
    row_info info;
    info.parent = parent;
    info.item = item;
    info.slots = static_cast<uint32_t>(slots_.size());
    infos_.push_back(info);
    slots_.resize(slots_.size() + domain_->tables[n.table].columns.size() +
                  n.children.size());
    return index;
  }

  // -- values -----------------------------------------------------------------

  // The column the next scalar is for, if any; a scalar anywhere else is
  // recorded here (a root that is no object, an owned field or item that
  // is no object or array).
  std::optional<column_ref> column_target() {
    if (stack_.empty()) {
      not_object_ = true;
      return std::nullopt;
    }
    auto& f = stack_.back();
    switch (f.kind) {
    case frame_kind::row: {
      auto s = f.slot;
      f.slot = none;
      if (s == none)
        return std::nullopt;
      auto columns = table_of(f.row).columns.size();
      if (s < columns)
        return column_ref{f.row, s};
      slot(f.row, s).fault = value_fault::wrong_type;
      return std::nullopt;
    }
    case frame_kind::items: {
      auto& s = slot(f.row, f.slot);
      auto index = f.count++;
      if (index >= max_items(f))
        s.too_many = true;
      else if (s.first_bad == none)
        s.first_bad = index;
      return std::nullopt;
    }
    case frame_kind::skip_array:
      ++f.count;
      return std::nullopt;
    case frame_kind::skip_object:
      return std::nullopt;
    }
    return std::nullopt;
  }

  uint32_t max_items(const frame& items) const {
    const auto& n = node_of(items.row);
    return resource_
        ->nodes[n.children[items.slot - table_of(items.row).columns.size()]]
        .max_items;
  }

  void fail(column_ref c, value_fault fault) {
    slot(c.row, c.column).fault = fault;
  }

  // Stores a value of a column; null only fits an optional one.
  void store(column_ref c, field_value value) {
    if (value.is_null() && !column(c).optional)
      fail(c, value_fault::wrong_type);
    else
      rows_[c.row].values[c.column] = std::move(value);
  }

  void put(column_ref c, value_fault fault, field_value value) {
    fault == value_fault::none ? store(c, std::move(value)) : fail(c, fault);
  }

  void put_integer(column_ref c, int64_t x) {
    const auto& col = column(c);
    switch (col.type) {
    case column_type::integer:
    case column_type::reference:
      put(c, check_integer(col, x), field_value::of_integer(x));
      break;
    case column_type::number: {
      auto d = static_cast<double>(x);
      put(c, check_number(col, d), field_value::of_number(d));
      break;
    }
    default:
      fail(c, value_fault::wrong_type);
    }
  }

  // A number that is no int64: a float, or an integer literal (`literal`)
  // out of range.
  void put_wide(column_ref c, double x, bool literal) {
    const auto& col = column(c);
    switch (col.type) {
    case column_type::number:
      put(c, check_number(col, x), field_value::of_number(x));
      break;
    case column_type::integer:
    case column_type::reference:
      fail(c, literal ? value_fault::not_int64 : value_fault::wrong_type);
      break;
    default:
      fail(c, value_fault::wrong_type);
    }
  }

  // -- containers -------------------------------------------------------------

  void open(bool is_object) {
    frame next;
    next.kind = is_object ? frame_kind::skip_object : frame_kind::skip_array;
    if (stack_.empty()) {
      path_ = "body";
      if (is_object) {
        next.kind = frame_kind::row;
        next.row = new_row(0, none, 0);
      } else {
        not_object_ = true;
      }
    } else {
      auto& f = stack_.back();
      switch (f.kind) {
      case frame_kind::row:
        open_in_row(f, is_object, next);
        break;
      case frame_kind::items:
        open_item(f, is_object, next);
        break;
      case frame_kind::skip_array:
        next_item(f);
        break;
      case frame_kind::skip_object:
        break;
      }
    }
    next.object = objects_++;
    next.path = path_.size();
    stack_.push_back(next);
  }

  void open_in_row(frame& f, bool is_object, frame& next) {
    auto s = f.slot;
    f.slot = none;
    if (s == none)
      return;
    auto columns = table_of(f.row).columns.size();
    auto& state = slot(f.row, s);
    if (s < columns) {
      state.fault = value_fault::wrong_type;
      return;
    }
    auto child = node_of(f.row).children[s - columns];
    if (resource_->nodes[child].many == is_object) {
      state.fault = value_fault::wrong_type;
      return;
    }
    if (is_object) {
      auto parent = f.row;
      next.kind = frame_kind::row;
      next.row = new_row(child, parent, 0);
      slot(parent, s).first = next.row;
    } else {
      next.kind = frame_kind::items;
      next.row = f.row;
      next.slot = s;
    }
  }

  // Counts an item of array `f` and returns its index, with its path in
  // `path_`.
  uint32_t next_item(frame& f) {
    auto index = f.count++;
    path_.resize(f.path);
    path_ += '[';
    path_ += std::to_string(index);
    path_ += ']';
    return index;
  }

  void open_item(frame& f, bool is_object, frame& next) {
    auto index = next_item(f);
    auto parent = f.row;
    auto s = f.slot;
    auto limit = max_items(f);
    auto& state = slot(parent, s);
    if (index >= limit) {
      state.too_many = true;
      return;
    }
    if (state.first_bad != none)
      return;
    if (!is_object) {
      state.first_bad = index;
      return;
    }
    auto columns = table_of(parent).columns.size();
    auto child = node_of(parent).children[s - columns];
    next.kind = frame_kind::row;
    next.row = new_row(child, parent, index);
    auto& fresh = slot(parent, s); // slots_ may have grown
    if (fresh.last == none)
      fresh.first = next.row;
    else
      infos_[fresh.last].next = next.row;
    fresh.last = next.row;
  }

  // -- the check in declared order --------------------------------------------

  // Appends the path of `row` to `out`: body, body.child, body.copies[2].
  void append_path(uint32_t row, std::string& out) const {
    const auto& info = infos_[row];
    if (info.parent == none) {
      out += "body";
      return;
    }
    append_path(info.parent, out);
    const auto& n = node_of(row);
    out += '.';
    out += n.field;
    if (n.many) {
      out += '[';
      out += std::to_string(info.item);
      out += ']';
    }
  }

  std::string field_path(uint32_t row, std::string_view name) const {
    std::string result;
    append_path(row, result);
    result += '.';
    result += name;
    return result;
  }

  bool check_row(uint32_t row, validation_error& err) {
    order_.push_back(row);
    const auto& info = infos_[row];
    const auto& n = node_of(row);
    const auto& table = domain_->tables[n.table];
    const auto columns = table.columns.size();
    auto is_by = [&](size_t i) { return n.parent >= 0 && i == n.by; };
    if (info.first_unknown != none) {
      err.message = "unknown field '" +
                    field_path(row, unknown_[info.first_unknown]) + "'";
      return false;
    }
    for (size_t i = 0; i < columns; ++i)
      if (!is_by(i) && !table.columns[i].optional &&
          !slots_[info.slots + i].seen) {
        err.message =
            "missing field '" + field_path(row, table.columns[i].name) + "'";
        return false;
      }
    for (size_t i = 0; i < n.children.size(); ++i)
      if (!slots_[info.slots + columns + i].seen) {
        err.message = "missing field '" +
                      field_path(row, resource_->nodes[n.children[i]].field) +
                      "'";
        return false;
      }
    for (size_t i = 0; i < columns; ++i) {
      auto fault = slots_[info.slots + i].fault;
      if (fault != value_fault::none) {
        err.message = "field '" + field_path(row, table.columns[i].name) +
                      "' " + fault_text(table.columns[i], fault);
        return false;
      }
    }
    for (size_t i = 0; i < n.children.size(); ++i)
      if (!check_owned(row, i, err))
        return false;
    return true;
  }

  bool check_owned(uint32_t row, size_t child, validation_error& err) {
    const auto& n = node_of(row);
    const auto& c = resource_->nodes[n.children[child]];
    const auto s = slots_[infos_[row].slots +
                          domain_->tables[n.table].columns.size() + child];
    auto where = field_path(row, c.field);
    if (s.fault != value_fault::none) {
      err.message =
          where + (c.many ? " must be a JSON array" : " must be a JSON object");
      return false;
    }
    if (!c.many)
      return check_row(s.first, err);
    if (s.too_many) {
      err.message =
          where + " has more than " + std::to_string(c.max_items) + " items";
      return false;
    }
    for (auto item = s.first; item != none; item = infos_[item].next)
      if (!check_row(item, err))
        return false;
    if (s.first_bad != none) {
      err.message =
          where + "[" + std::to_string(s.first_bad) + "] must be a JSON object";
      return false;
    }
    return true;
  }

  // -- state ------------------------------------------------------------------

  const domain* domain_ = nullptr;
  const resource_decl* resource_ = nullptr;
  /// The rows in the order of the body, and where each one sits.
  std::vector<row_write> rows_;
  std::vector<row_info> infos_;
  std::vector<slot_state> slots_;
  std::vector<frame> stack_;
  /// The first unknown field of each row that has one.
  std::vector<std::string> unknown_;
  /// Keys of objects outside the declaration, and unknown keys, each
  /// prefixed by its object's number: a repeat is a duplicate key.
  std::unordered_set<std::string> keys_;
  /// The path of the innermost open container, and of its last key or item.
  std::string path_;
  uint64_t objects_ = 0;
  bool overflow_ = false;
  /// The path of the number beyond the double range, when that failed.
  std::string overflow_path_;
  size_t error_at_ = 0;
  bool not_object_ = false;
  /// The path of the first repeated key.
  std::string duplicate_;
  /// The rows in declared order, and each row's index in the command.
  std::vector<uint32_t> order_;
  std::vector<uint32_t> position_;
};

} // namespace

std::optional<command> parse_command(const domain& d, operation op,
                                     size_t resource, row_id id,
                                     std::string_view body,
                                     validation_error& err) {
  command cmd;
  cmd.op = op;
  cmd.resource = static_cast<uint16_t>(resource);
  cmd.id = id;
  if (op == operation::remove)
    return cmd;
  // nlohmann's lexer takes a NUL byte for the end of input and would accept
  // `{...}\0<anything>`; a raw NUL is never valid JSON.
  if (body.find('\0') != std::string_view::npos) {
    err.message = "request body is not valid JSON (it contains a NUL byte)";
    return std::nullopt;
  }
  thread_local body_reader reader;
  reader.reset(d, d.resources[resource]);
  bool ok = json::sax_parse(body.data(), body.data() + body.size(), &reader);
  if (!ok)
    err.message = reader.syntax_message();
  else
    ok = reader.finish(cmd, err);
  reader.trim();
  if (!ok)
    return std::nullopt;
  return cmd;
}

} // namespace cqrs
