// `view NAME { expr EXPRESSION }`, read as CoreDNS's view plugin reads it (its setup.go):
// one view per block, one NAME, any number of `expr` lines (all must hold), each line's
// arguments joined by one space into the expression. Expressions are compiled here, so
// a bad one is refused with its position by -validate and at start.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/config/directives.h"
#include "core/config/parse_util.h"
#include "core/view/expr.h"

namespace ringdns::core::config {
namespace {

// The Corefile position of the expression's column `column` (1-based): inside the
// argument that holds it, or the line's first argument past the end.
Location Where(const std::vector<Token>& args, int column) {
  std::size_t offset = column > 0 ? static_cast<std::size_t>(column - 1) : 0;
  for (const Token& t : args) {
    if (offset <= t.text.size()) {
      Location at = t.where;
      at.column += static_cast<int>(offset) + (t.quoted ? 1 : 0);
      return at;
    }
    offset -= t.text.size() + 1;  // the joining space
  }
  return args.back().where;
}

}  // namespace

absl::Status ParseView(const Directive& d, ServerBlock& out) {
  if (out.view)
    return ErrorAt(d.name, "view is given twice in this server block, expected at most one");
  if (absl::Status s = ExpectArgs(d, 1, 1, "view NAME { expr EXPRESSION }"); !s.ok()) return s;
  View view;
  view.where = d.name.where;
  view.name = d.args.front().text;
  for (const Directive& o : d.block) {
    if (o.name.text != "expr") {
      return ErrorAt(o.name,
                     absl::StrCat("view: unknown property '", o.name.text, "', expected expr"));
    }
    if (o.has_block) return ErrorAt(o.name, "view: expr takes no block, expected expr EXPRESSION");
    if (o.args.empty())
      return ErrorAt(o.name, "view: expr needs an expression, expected expr EXPRESSION");
    std::vector<std::string> parts;
    for (const Token& t : o.args) parts.push_back(t.text);
    ViewExpr e{absl::StrJoin(parts, " "), o.args.front().where};
    view::CompileError error;
    if (!view::Program::Compile(e.source, &error).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(o.args, error.column).ToString(), ": view ", view.name,
                       ": in expression column ", error.column, ": ", error.message));
    }
    view.exprs.push_back(std::move(e));
  }
  if (view.exprs.empty()) {
    return ErrorAt(d.name,
                   absl::StrCat("view ", view.name,
                                " has no expression, expected view NAME { expr EXPRESSION }"));
  }
  out.view = std::move(view);
  return absl::OkStatus();
}

}  // namespace ringdns::core::config
