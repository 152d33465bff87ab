#pragma once
// QuickFIX 1.15.1's headers through one door. They declare dynamic exception specifications
// (`throw(FieldNotFound)`), which C++17 and later refuse; `throw(...)` is defined away around them and the
// standard headers they use are included first, so the macro never reaches those. Nothing else may include a
// QuickFIX header. QuickFIX was built with std::auto_ptr: HAVE_STD_UNIQUE_PTR stays undefined.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
#if defined(__clang__)  // `make fuzz` builds with clang, which warns of the macro below
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wkeyword-macro"
#endif
#define throw(...)
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/FixFieldNumbers.h>
#include <quickfix/Log.h>
#include <quickfix/Message.h>
#include <quickfix/NullStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/Values.h>
#undef throw
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
