#include "md/l3_book.hpp"

namespace tranche::md {

const char* to_string(L3Status status) {
  switch (status) {
    case L3Status::Ok:
      return "ok";
    case L3Status::Ignored:
      return "ignored";
    case L3Status::UnknownOrder:
      return "unknown order";
    case L3Status::DuplicateOrder:
      return "duplicate order";
    case L3Status::QtyExceedsOrder:
      return "qty exceeds order";
    case L3Status::InvalidQty:
      return "invalid qty";
    case L3Status::InvalidPrice:
      return "invalid price";
  }
  return "?";
}

L3Book::L3Book(L3BookOptions options) : options_(options) {}

L3Status L3Book::apply(const Event& event) {
  switch (event.kind) {
    case EventKind::OrderAdd:
      return add(event.order_id, event.side, event.price, event.qty);
    case EventKind::OrderCancel:
      return cancel(event.order_id, event.qty);
    case EventKind::OrderModify:
      return modify(event.order_id, event.price, event.qty);
    case EventKind::OrderFill:
      if (!options_.fills_change_book) return counted(L3Status::Ignored);
      return fill(event.order_id, event.qty);
    case EventKind::BookClear:
      clear();
      return counted(L3Status::Ok);
    default:
      return counted(L3Status::Ignored);
  }
}

std::uint32_t L3Book::allocate_node() {
  if (!free_.empty()) {
    const std::uint32_t index = free_.back();
    free_.pop_back();
    return index;
  }
  nodes_.emplace_back();
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void L3Book::link_back(std::uint32_t node_index, Side side, Price price) {
  Queue* queue = side == Side::Buy ? &bids_[price] : &asks_[price];
  Node& node = nodes_[node_index];
  node.side = side;
  node.price = price;
  node.queue = queue;
  node.next = kNone;
  node.prev = queue->tail;
  if (queue->tail != kNone) {
    nodes_[queue->tail].next = node_index;
  } else {
    queue->head = node_index;
  }
  queue->tail = node_index;
  queue->qty += node.qty;
  ++queue->orders;
}

void L3Book::unlink(std::uint32_t node_index) {
  Node& node = nodes_[node_index];
  Queue* queue = node.queue;
  if (node.prev != kNone) {
    nodes_[node.prev].next = node.next;
  } else {
    queue->head = node.next;
  }
  if (node.next != kNone) {
    nodes_[node.next].prev = node.prev;
  } else {
    queue->tail = node.prev;
  }
  queue->qty -= node.qty;
  --queue->orders;
  if (queue->orders == 0) {
    if (node.side == Side::Buy) {
      bids_.erase(node.price);
    } else {
      asks_.erase(node.price);
    }
  }
  node.queue = nullptr;
  node.prev = node.next = kNone;
}

void L3Book::release(std::uint32_t node_index, std::uint64_t id) {
  index_.erase(id);
  free_.push_back(node_index);
}

L3Status L3Book::add(std::uint64_t id, Side side, Price price, Qty qty) {
  if (!price.is_set()) return counted(L3Status::InvalidPrice);
  if (!qty.is_positive()) return counted(L3Status::InvalidQty);
  auto [it, inserted] = index_.try_emplace(id, kNone);
  if (!inserted) return counted(L3Status::DuplicateOrder);
  const std::uint32_t node_index = allocate_node();
  it->second = node_index;
  Node& node = nodes_[node_index];
  node.id = id;
  node.qty = qty;
  link_back(node_index, side, price);
  return counted(L3Status::Ok);
}

L3Status L3Book::cancel(std::uint64_t id, Qty qty) {
  if (qty.is_negative()) return counted(L3Status::InvalidQty);
  const auto it = index_.find(id);
  if (it == index_.end()) return counted(L3Status::UnknownOrder);
  const std::uint32_t node_index = it->second;
  Node& node = nodes_[node_index];
  if (qty < node.qty) {
    node.qty -= qty;
    node.queue->qty -= qty;
    return counted(L3Status::Ok);
  }
  const bool exceeds = qty > node.qty;
  unlink(node_index);
  release(node_index, id);
  return counted(exceeds ? L3Status::QtyExceedsOrder : L3Status::Ok);
}

L3Status L3Book::remove(std::uint64_t id) {
  const auto it = index_.find(id);
  if (it == index_.end()) return counted(L3Status::UnknownOrder);
  const std::uint32_t node_index = it->second;
  unlink(node_index);
  release(node_index, id);
  return counted(L3Status::Ok);
}

L3Status L3Book::modify(std::uint64_t id, Price price, Qty qty) {
  if (!price.is_set()) return counted(L3Status::InvalidPrice);
  if (!qty.is_positive()) return counted(L3Status::InvalidQty);
  const auto it = index_.find(id);
  if (it == index_.end()) return counted(L3Status::UnknownOrder);
  const std::uint32_t node_index = it->second;
  Node& node = nodes_[node_index];
  if (price == node.price && qty <= node.qty) {
    // Same price, same or smaller quantity: the order keeps its place.
    node.queue->qty -= node.qty - qty;
    node.qty = qty;
    return counted(L3Status::Ok);
  }
  const Side side = node.side;
  unlink(node_index);
  nodes_[node_index].qty = qty;
  link_back(node_index, side, price);
  return counted(L3Status::Ok);
}

void L3Book::clear() {
  nodes_.clear();
  free_.clear();
  index_.clear();
  bids_.clear();
  asks_.clear();
}

std::size_t L3Book::remove_level(Side side, Price price) {
  const L3Level level = level_at(side, price);
  const std::size_t removed = level.orders;
  for (std::size_t i = 0; i < removed; ++i) {
    const Queue& queue = side == Side::Buy ? bids_.find(price)->second : asks_.find(price)->second;
    const std::uint32_t node_index = queue.head;
    const std::uint64_t id = nodes_[node_index].id;
    unlink(node_index);  // erases the level with its last order
    release(node_index, id);
  }
  return removed;
}

L3Level L3Book::best(Side side) const {
  if (side == Side::Buy) {
    if (bids_.empty()) return {};
    const auto& [price, queue] = *bids_.begin();
    return {price, queue.qty, queue.orders};
  }
  if (asks_.empty()) return {};
  const auto& [price, queue] = *asks_.begin();
  return {price, queue.qty, queue.orders};
}

bool L3Book::crossed() const {
  return !bids_.empty() && !asks_.empty() && bids_.begin()->first >= asks_.begin()->first;
}

std::size_t L3Book::depth(Side side, std::span<L3Level> out) const {
  std::size_t written = 0;
  auto copy = [&](const auto& levels) {
    for (auto it = levels.begin(); it != levels.end() && written < out.size(); ++it)
      out[written++] = {it->first, it->second.qty, it->second.orders};
  };
  if (side == Side::Buy) {
    copy(bids_);
  } else {
    copy(asks_);
  }
  return written;
}

L3Level L3Book::level_at(Side side, Price price) const {
  if (side == Side::Buy) {
    const auto it = bids_.find(price);
    if (it == bids_.end()) return {price, Qty{}, 0};
    return {price, it->second.qty, it->second.orders};
  }
  const auto it = asks_.find(price);
  if (it == asks_.end()) return {price, Qty{}, 0};
  return {price, it->second.qty, it->second.orders};
}

bool L3Book::find(std::uint64_t id, L3Order& out) const {
  const auto it = index_.find(id);
  if (it == index_.end()) return false;
  const Node& node = nodes_[it->second];
  out = {node.id, node.side, node.price, node.qty};
  return true;
}

bool L3Book::qty_ahead(std::uint64_t id, Qty& out) const {
  const auto it = index_.find(id);
  if (it == index_.end()) return false;
  Qty ahead;
  for (std::uint32_t i = nodes_[it->second].prev; i != kNone; i = nodes_[i].prev) ahead += nodes_[i].qty;
  out = ahead;
  return true;
}

bool L3Book::orders_ahead(std::uint64_t id, std::uint32_t& out) const {
  const auto it = index_.find(id);
  if (it == index_.end()) return false;
  std::uint32_t ahead = 0;
  for (std::uint32_t i = nodes_[it->second].prev; i != kNone; i = nodes_[i].prev) ++ahead;
  out = ahead;
  return true;
}

}  // namespace tranche::md
