// Argument checks for the N-API glue. Every failure becomes a thrown JS TypeError/Error that
// names the function and the argument; nothing here ever aborts the process.
#pragma once
#include <napi.h>
#include <string>

// A TypeError carrying the package's stable code (see src/errors.ts).
inline Napi::Error HearthArgumentError(Napi::Env env, const std::string& message) {
  Napi::Error e = Napi::TypeError::New(env, message);
  e.Set("code", Napi::String::New(env, "HEARTH_TENSOR_ARGUMENT"));
  return e;
}

#define HEARTH_CHECK(env, cond, fn, msg)                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      throw HearthArgumentError((env), std::string(fn) + ": " + (msg));               \
    }                                                                                 \
  } while (0)

#define HEARTH_CHECK_ARGC(info, n, fn)                                                \
  HEARTH_CHECK((info).Env(), (info).Length() >= (n), fn,                              \
               "expected " + std::to_string(n) + " arguments, got " +                 \
                   std::to_string((info).Length()))

#define HEARTH_CHECK_NUMBER(info, i, fn, name)                                        \
  HEARTH_CHECK((info).Env(), (info)[i].IsNumber(), fn,                                \
               std::string("argument '") + (name) + "' must be a number")

#define HEARTH_CHECK_STRING(info, i, fn, name)                                        \
  HEARTH_CHECK((info).Env(), (info)[i].IsString(), fn,                                \
               std::string("argument '") + (name) + "' must be a string")
