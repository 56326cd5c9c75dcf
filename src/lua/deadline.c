/* lua/deadline — the watchdog thread that interrupts Lua calls past their
 * wall-clock deadline (deadline.h). */
#include "lua/deadline.h"
#include "base/clock.h"

#include <errno.h>
#include <time.h>

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct deadline_slot *slots; /* under list_lock */
static pthread_once_t started = PTHREAD_ONCE_INIT;
static bool running;
static atomic_bool all_expired;

/* Under list_lock: installs the hook in every armed slot whose deadline
 * has passed (and that the watchdog has not fired yet). */
static void fire_expired(int64_t now)
{
    bool every = atomic_load(&all_expired);
    for (struct deadline_slot *s = slots; s; s = s->next) {
        int64_t due = atomic_load(&s->due_ns);
        if (!due || (due > now && !every) || atomic_load(&s->fired)) continue;
        pthread_mutex_lock(&s->lock);
        /* Still the same call: disarm takes this lock before it clears. */
        if (atomic_load(&s->due_ns) == due) {
            lua_sethook(s->L, s->hook, s->mask, 1);
            atomic_store(&s->fired, true);
        }
        pthread_mutex_unlock(&s->lock);
    }
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    const struct timespec tick = {0, DEADLINE_TICK_MS * 1000000L};
    for (;;) {
        nanosleep(&tick, NULL);
        pthread_mutex_lock(&list_lock);
        fire_expired(clock_mono_ns());
        pthread_mutex_unlock(&list_lock);
    }
    return NULL;
}

static void start_watchdog(void)
{
    pthread_t t;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    running = pthread_create(&t, &attr, watchdog_main, NULL) == 0;
    pthread_attr_destroy(&attr);
    if (running) pthread_setname_np(t, "lua-deadline");
}

int deadline_register(struct deadline_slot *slot, lua_State *L, lua_Hook hook, int mask)
{
    pthread_once(&started, start_watchdog);
    pthread_mutex_init(&slot->lock, NULL);
    slot->L = L;
    slot->hook = hook;
    slot->mask = mask;
    atomic_init(&slot->due_ns, 0);
    atomic_init(&slot->fired, false);
    pthread_mutex_lock(&list_lock);
    slot->prev = NULL;
    slot->next = slots;
    if (slots) slots->prev = slot;
    slots = slot;
    pthread_mutex_unlock(&list_lock);
    return running ? 0 : -EAGAIN;
}

void deadline_unregister(struct deadline_slot *slot)
{
    pthread_mutex_lock(&list_lock);
    if (slot->prev)
        slot->prev->next = slot->next;
    else
        slots = slot->next;
    if (slot->next) slot->next->prev = slot->prev;
    slot->prev = slot->next = NULL;
    pthread_mutex_unlock(&list_lock);
    pthread_mutex_destroy(&slot->lock);
}

void deadline_arm(struct deadline_slot *slot, long ms)
{
    atomic_store(&slot->fired, false);
    int64_t due = atomic_load(&all_expired) ? 1 : clock_mono_ns() + (int64_t)ms * 1000000;
    atomic_store(&slot->due_ns, due > 0 ? due : 1);
}

bool deadline_disarm(struct deadline_slot *slot)
{
    pthread_mutex_lock(&slot->lock);
    atomic_store(&slot->due_ns, 0);
    pthread_mutex_unlock(&slot->lock);
    return atomic_load(&slot->fired);
}

void deadline_expire_all(void)
{
    atomic_store(&all_expired, true);
    pthread_mutex_lock(&list_lock);
    fire_expired(clock_mono_ns());
    pthread_mutex_unlock(&list_lock);
}
