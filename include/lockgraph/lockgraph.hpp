// lockgraph/lockgraph.hpp: everything public in one include.
//
//   #include <lockgraph/lockgraph.hpp>
//   lockgraph::mutex a{"accounts"}, b;          // drop-in for std::mutex; named or labelled by file:line
//   std::scoped_lock both(a, b);                 // std::lock / scoped_lock are never reported
//
// See README.md for the rules, options (LOCKGRAPH_OPTIONS) and the design.
#ifndef LOCKGRAPH_LOCKGRAPH_HPP
#define LOCKGRAPH_LOCKGRAPH_HPP

#include "lockgraph/annotate.hpp"
#include "lockgraph/check.hpp"
#include "lockgraph/condition_variable.hpp"
#include "lockgraph/control.hpp"
#include "lockgraph/graphviz.hpp"
#include "lockgraph/guards.hpp"
#include "lockgraph/lock_class.hpp"
#include "lockgraph/mutex.hpp"
#include "lockgraph/options.hpp"
#include "lockgraph/report.hpp"
#include "lockgraph/shared_mutex.hpp"
#include "lockgraph/thread_annotations.hpp"
#include "lockgraph/version.hpp"

#endif  // LOCKGRAPH_LOCKGRAPH_HPP
