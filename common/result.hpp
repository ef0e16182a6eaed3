// The one way our code returns "a value, or the reason it failed": Result<T>.
// The reason is a sentence for the user or the peer (what failed, what to do);
// protocol parsing carries its error code along (Result<T, proto::ParseError>).
// std::expected would do, but GCC 12 has it only under C++23.
//
//   Result<Plan> plan = plan_source(settings);
//   if (!plan) return fail(plan.error());
//   use(*plan);
//
// Result<void> is "done, or why not": `return ok();` / `return fail("...");`.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace sl {

// The failure half of a Result, whatever its value type: `return fail(...)`
// converts to any Result<T, E> whose E can be made from it.
template <typename E = std::string>
struct Failure {
  E error;
};
template <typename E>
Failure<std::decay_t<E>> fail(E &&error) {
  return {std::forward<E>(error)};
}
inline Failure<std::string> fail(const char *error) { return {error}; }

template <typename T, typename E = std::string>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <typename F>
  Result(Failure<F> failure) : v_(std::in_place_index<1>, std::move(failure.error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T &operator*() & { return std::get<0>(v_); }
  const T &operator*() const & { return std::get<0>(v_); }
  T &&operator*() && { return std::get<0>(std::move(v_)); }
  T *operator->() { return &std::get<0>(v_); }
  const T *operator->() const { return &std::get<0>(v_); }
  T &value() & { return std::get<0>(v_); }
  const T &value() const & { return std::get<0>(v_); }
  T &&value() && { return std::get<0>(std::move(v_)); }
  const E &error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

struct Done {};
template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result(Done) {}
  template <typename F>
  Result(Failure<F> failure) : error_(std::move(failure.error)), failed_(true) {}

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const E &error() const { return error_; }

 private:
  E error_{};
  bool failed_ = false;
};
inline Done ok() { return {}; }

}  // namespace sl
