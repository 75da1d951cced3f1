// The tables and indexes of a declared domain: created when missing, checked
// when present, never altered (DOMAIN.md, "The database").
#pragma once

#include <caf/error.hpp>

#include "config/settings.hpp"
#include "model/domain.hpp"

namespace soci {
class session;
} // namespace soci

namespace cqrs {

/// Creates the declared tables and indexes of `d` that are missing and checks
/// the existing ones, in one transaction (on PostgreSQL under the advisory
/// lock that `migrate` takes, so nodes starting at once do not race). `d` is
/// derived (`derive`, as `load_domain` returns it).
///
/// - A missing table is created with every identifier double-quoted: `id` is
///   a 64-bit primary key the database assigns and never reuses, each column
///   has the type of its declaration and is NOT NULL unless `optional`, and
///   each `references` column has a FOREIGN KEY to the referenced table's id,
///   DEFERRABLE INITIALLY DEFERRED (checked at COMMIT: a safety net behind
///   the write store's own checks that does not constrain the order of its
///   statements).
/// - An index `cqrsd_<hash>` is created for every `references` column, every
///   list filter column (UNIQUE for every `unique` column and the `by` column
///   of an owned single child), unless an index on the table already serves:
///   a valid, non-partial btree index led by the column (unique and on that
///   column alone, where uniqueness is asked for).
/// - An existing table is checked, never altered: every declared column must
///   exist with the declared type and nullability, an undeclared NOT NULL
///   column needs a default, and `id` must be a 64-bit primary key the
///   database assigns (on SQLite: INTEGER PRIMARY KEY AUTOINCREMENT). Extra
///   nullable columns are fine.
///
/// Returns `ec::schema_mismatch`, naming each table, column and difference,
/// when an existing table does not match or a UNIQUE index cannot be built
/// because rows already hold a value twice; then nothing is changed.
/// Returns `ec::database_unavailable` when the database fails.
caf::error ensure_domain_schema(soci::session& sql, database_backend backend,
                                const domain& d);

} // namespace cqrs
