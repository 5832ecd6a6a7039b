// Argument checks for the N-API glue. Every failure becomes a thrown JS TypeError/Error that
// names the function and the argument; nothing here ever aborts the process.
#pragma once
#include <napi.h>
#include <string>

#define HEARTH_CHECK(env, cond, fn, msg)                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      throw Napi::TypeError::New((env), std::string(fn) + ": " + (msg));              \
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
