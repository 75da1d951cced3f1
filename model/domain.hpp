// The domain declaration: the tables, resources and views of a domain file
// (DOMAIN.md), and what cqrsd derives from them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cqrs {

// -- tables -------------------------------------------------------------------

/// The type of a declared column. `reference` holds the id of a row of
/// another (or the same) table; it is stored and read as an integer.
enum class column_type : uint8_t { text, integer, number, boolean, reference };

/// Returns "text", "integer", "number", "boolean" or "reference".
const char* to_string(column_type x);

/// One declared column of a table.
struct column_decl {
  std::string name;
  column_type type = column_type::text;
  /// The referenced table's name when `type == reference`.
  std::string references;
  /// May be left out or null in a write; stored as NULL.
  bool optional = false;
  /// No two rows hold the same non-null value.
  bool unique = false;
  /// Text only: length bounds in code points (inclusive).
  uint32_t min_length = 1;
  uint32_t max_length = 1000;
  /// Integer only: inclusive bounds.
  std::optional<int64_t> min_integer;
  std::optional<int64_t> max_integer;
  /// Number only: inclusive bounds.
  std::optional<double> min_number;
  std::optional<double> max_number;
  /// Text only: the allowed values; empty allows any.
  std::vector<std::string> one_of;
};

/// One declared table. Every table also has an implicit `id` column, the
/// 64-bit primary key the database assigns; it is not in `columns`.
struct table_decl {
  std::string name;
  /// In declared order.
  std::vector<column_decl> columns;

  /// Derived: the indexes (into `columns`) of every `references` column and
  /// of every column some view's list filters on, in column order. A write
  /// names the old and new value of each of them (see `column_key`).
  std::vector<size_t> keyed_columns;

  /// Returns the index of column `name` in `columns`, or nothing (also for
  /// `id`, which is implicit).
  std::optional<size_t> column_index(std::string_view name) const;
};

// -- resources: the write API -------------------------------------------------

/// A body field that holds owned child rows.
struct owned_decl {
  /// The body field's name.
  std::string field;
  std::string table;
  /// The child's `references` column that holds its parent row's id.
  std::string by;
  /// An array of 0..max_items objects; otherwise exactly one object.
  bool many = false;
  uint32_t max_items = 100;
  /// Children of the children.
  std::vector<owned_decl> owns;
};

/// One node of a resource's ownership tree, flattened in pre-order: node 0 is
/// the root row, then each owned field depth-first in declared order.
struct resource_node {
  /// Index into `domain::tables`.
  size_t table = 0;
  /// Index of the parent node; -1 for the root.
  int parent = -1;
  /// The body field of the parent that holds this node; empty for the root.
  std::string field;
  /// The index (into the table's columns) of the `by` column; unused for the
  /// root.
  size_t by = 0;
  bool many = false;
  uint32_t max_items = 0;
  /// The nodes whose parent this is, in declared order.
  std::vector<size_t> children;
};

/// A resource: POST, PUT and DELETE on `/<segment>`.
struct resource_decl {
  /// The URL segment, [a-z][a-z0-9-]{0,62}.
  std::string segment;
  /// The root table's name.
  std::string table;
  std::vector<owned_decl> owns;

  /// Derived: the ownership tree in pre-order; `nodes[0]` is the root.
  std::vector<resource_node> nodes;
};

// -- views: the read API ------------------------------------------------------

/// A join `t.c`: the `references` column `c` of table `t`.
struct join_decl {
  std::string table;
  std::string column;
};

/// A field of a view's JSON object: `name: table.column` (`column` may be
/// `id`).
struct field_decl {
  std::string name;
  std::string table;
  std::string column;
};

/// One table of the to-one join tree of a view, or of a collection.
struct view_source {
  /// Index into `domain::tables`.
  size_t table = 0;
  /// The source it is joined from; -1 for the root (`from`).
  int parent = -1;
  /// Index of the join's `references` column: in this source's table for a
  /// backward join, in the parent's table for a forward one.
  size_t column = 0;
  /// Backward: this table's column references the parent's row. Forward:
  /// the parent's column references this table's row.
  bool backward = false;
  /// An inner join; the root counts as one.
  bool inner = true;
  /// Left-joined, or joined through a left join: its fields read null when
  /// no row was found.
  bool may_be_missing = false;
};

/// A resolved field.
struct view_field {
  std::string name;
  /// Index into the scope's `sources`.
  size_t source = 0;
  /// Index into the source table's columns; nothing for `id`.
  std::optional<size_t> column;
};

struct collection_decl;

/// What a view and a collection have in common: a root table, to-one joins,
/// fields and nested collections.
struct view_scope {
  std::vector<join_decl> joins;
  std::vector<field_decl> fields;
  std::vector<collection_decl> collections;

  /// Derived: `sources[0]` is the root, then one source per join in order.
  std::vector<view_source> sources;
  /// Derived: `fields` resolved, in the same order.
  std::vector<view_field> resolved;
};

/// An array of child rows nested in a view (or in a collection).
struct collection_decl {
  std::string name;
  std::string from;
  /// The `references` column of `from` that holds the enclosing row's id.
  std::string by;
  view_scope scope;
  /// A field name of the collection; rows come in its order, then by id.
  std::string order_by = "id";
  uint32_t limit = 100;

  /// Derived: index of `by` in the columns of `from`.
  size_t by_column = 0;
  /// Derived: index of `order_by` in `scope.resolved`; nothing when
  /// `order_by` is `id` and no field is named so (then rows come by id).
  std::optional<size_t> order_field;
};

/// A query parameter of a list: keeps the rows whose column equals it.
struct filter_decl {
  std::string name;
  std::string table;
  std::string column;

  /// Derived: index into the view's sources, and into that table's columns.
  size_t source = 0;
  size_t column_index = 0;
};

/// `GET /<view>?...`: pages of views ordered by root id.
struct list_decl {
  std::vector<filter_decl> filters;
  uint32_t default_limit = 50;
  uint32_t max_limit = 500;
};

/// A view: GET `/<segment>/{id}` and, with a list, GET `/<segment>?...`.
struct view_decl {
  std::string segment;
  std::string from;
  view_scope scope;
  std::optional<list_decl> list;
};

// -- the domain ---------------------------------------------------------------

/// Limits of a domain file (DOMAIN.md).
inline constexpr size_t max_tables = 64;
inline constexpr size_t max_columns = 64;
inline constexpr size_t max_nesting = 4;
inline constexpr size_t max_view_tables = 16;
inline constexpr uint32_t max_owned_items = 1000;
inline constexpr uint32_t max_collection_limit = 1000;
inline constexpr uint32_t max_list_limit = 1000;

/// A checked domain. Build one with `load_domain` (config/domain_file.hpp),
/// which checks every rule of DOMAIN.md and then calls `derive`.
struct domain {
  std::string name;
  /// Tables and views in the order of the file; resources sorted by
  /// segment, so that nodes whose digests agree agree on their indexes
  /// too (a command names its resource by index, also across nodes).
  std::vector<table_decl> tables;
  std::vector<resource_decl> resources;
  std::vector<view_decl> views;

  /// The canonical form (see `canonical_text`) and its SHA-256, in hex.
  /// Two nodes serve the same domain when their digests are equal.
  std::string digest;

  /// Returns the index of table `name`, or nothing.
  std::optional<size_t> table_index(std::string_view name) const;

  /// Returns the index of the resource or view with URL segment `segment`,
  /// or nothing.
  std::optional<size_t> resource_index(std::string_view segment) const;
  std::optional<size_t> view_index(std::string_view segment) const;
};

/// Fills the derived members (marked "Derived") of a domain whose names all
/// resolve, as `load_domain` has checked. Idempotent.
void derive(domain& d);

/// The domain as one canonical JSON text: every key, with defaults spelled
/// out. Tables, resources and views are objects sorted by key (so neither
/// comments nor their order count); columns, owned fields, fields,
/// collections and filters keep their declared order, which answers show,
/// as [name, value] pairs; lists keep their declared order. Equal domains
/// give equal texts.
std::string canonical_text(const domain& d);

/// Names reserved for cqrsd's own use (DOMAIN.md, "Reserved names").
bool is_reserved_table_name(std::string_view name);
bool is_reserved_column_name(std::string_view name);
bool is_reserved_segment(std::string_view segment);

} // namespace cqrs
