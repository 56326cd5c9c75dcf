/* lua/deadline — the wall-clock deadline of every call into Lua, enforced
 * from outside the running state.
 *
 * The count hook (vm.c) stops a script that runs too many instructions, but
 * instructions are not time: a loop over C functions that each take a
 * millisecond, a state stuck in an emergency collection, a slow machine.
 * So each vm_pcall also arms a deadline here, and one process-wide
 * watchdog thread (started on the first registration, never stopped) wakes
 * every DEADLINE_TICK_MS, and for each armed slot past its deadline calls
 * lua_sethook on the running state — the way lua.c's SIGINT handler stops
 * a script (lua_sethook is safe to call asynchronously). The hook then
 * raises at the state's next instruction. A C function that never returns
 * to the VM cannot be interrupted this way: the library caps
 * (lua/pattern_guard.h, lua/sandbox_caps.h) bound those.
 *
 * A slot belongs to one lua_State; its owner thread arms and disarms it.
 * The watchdog touches the state only between arm and disarm, under the
 * slot's lock, so once deadline_disarm returns the state is the owner's
 * alone again (it may clear the hook, close the state). Thread-safe. */
#ifndef PERISCOPE_LUA_DEADLINE_H
#define PERISCOPE_LUA_DEADLINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <lua.h>

#define DEADLINE_TICK_MS 10 /* resolution of the watchdog */

struct deadline_slot {
    pthread_mutex_t lock;
    lua_State *L;
    lua_Hook hook; /* what the watchdog installs, with mask and count 1 */
    int mask;
    _Atomic int64_t due_ns;            /* CLOCK_MONOTONIC; 0: not armed */
    atomic_bool fired;                 /* the watchdog installed the hook since the last arm */
    struct deadline_slot *prev, *next; /* the watchdog's list; under its lock */
};

/* Links a slot for state L (which must outlive the registration); hook is
 * installed with mask (count 1) when it expires. Starts the watchdog thread on first use.
 * Returns 0 or -EAGAIN (no thread: deadlines are then not enforced). */
int deadline_register(struct deadline_slot *slot, lua_State *L, lua_Hook hook, int mask);
/* Unlinks it; after this the watchdog never touches the state again. */
void deadline_unregister(struct deadline_slot *slot);

/* The owner thread, around one protected call: arm with a duration, then
 * disarm. disarm returns true when the watchdog fired in between. */
void deadline_arm(struct deadline_slot *slot, long ms);
bool deadline_disarm(struct deadline_slot *slot);

/* From now on every deadline has passed: armed slots fire at the next
 * tick and later arms expire at once (a stopping server: no hook may hold
 * a thread any longer). Irreversible. Any thread. */
void deadline_expire_all(void);

#endif
