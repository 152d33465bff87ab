#include "md/event.hpp"

namespace tranche::md {

const char* to_string(EventKind kind) {
  switch (kind) {
    case EventKind::BookSnapshot:
      return "book_snapshot";
    case EventKind::BookDelta:
      return "book_delta";
    case EventKind::Quote:
      return "quote";
    case EventKind::Trade:
      return "trade";
    case EventKind::OrderAdd:
      return "order_add";
    case EventKind::OrderCancel:
      return "order_cancel";
    case EventKind::OrderModify:
      return "order_modify";
    case EventKind::OrderFill:
      return "order_fill";
    case EventKind::BookClear:
      return "book_clear";
    case EventKind::Gap:
      return "gap";
  }
  return "unknown";
}

}  // namespace tranche::md
