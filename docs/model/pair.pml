/*
 * The pair's failover protocol, as implemented in actors/ha/ha_rules.cpp (election, epochs, lease),
 * actors/ha/witness_rules.cpp (grant each epoch once, lease) and the glue in actors/ha/ha_actor.cpp
 * (how witness tallies are fed back). Checked with spin by scripts/check-model.sh.
 *
 * Names follow the code: roles starting/standby/active/stepping_down, effects persist_epoch,
 * claim_epoch, renew_lease, become_active, become_standby, step_down, request_snapshot,
 * release_lease; inlines on_heartbeat, on_tick, on_claim_result, on_renew_result,
 * on_switchover_request, on_higher_epoch, demote, claim.
 *
 * Abstractions (docs/ha.md, "What is proven"):
 *  - Time is discrete: one tick = one heartbeat interval. Every timer is kept relative to now
 *    (ages of the last heartbeat per path, lease ticks left at the holder and at each witness), so
 *    the state space is finite. All clocks run at the same rate (no drift).
 *  - Heartbeats: one in-flight slot per path and direction carrying the sender's (role, epoch) at
 *    send time; a newer heartbeat overwrites an undelivered one (loss), a slot may be delivered
 *    late (delay, staleness) or never (loss). Each path can be partitioned independently.
 *  - Witness requests: one outstanding request per node (claim, renew or release) sent to all three
 *    witnesses; each witness processes it or not (loss, witness down), and its answer reaches the
 *    tally or not. The tally is delivered when every witness answered or after TMO ticks (the
 *    client's answer timeout). Requests still unprocessed at that point stay in flight (orphan) and
 *    may still be processed later, with no answer.
 *  - Replication: a set of record ids per node (durable across crashes). The active streams records
 *    to a standby over the node link; a standby that asked for a snapshot gets the active's set.
 *    A record is acknowledged to its call once both nodes hold it; with ACK_ALONE also when its
 *    active sees no peer on either path ("standby absent").
 *  - Bounds: epochs <= MAXE, records <= MAXREC. Crashes, restarts, partitions, heals, witness
 *    restarts and switchovers are unbounded.
 *
 * Compile-time switches (spin -D...):
 *   BROKEN_GRANT_TWICE     witness grants an epoch it already granted to another node (planted bug)
 *   CLAIM_LEASE_FROM_RESULT holder measures its first lease from the claim's answer, not from
 *                           when the claim was sent (the rules before the fix, see docs/ha.md)
 *   LEGACY_CLAIM_GLUE      the glue and rules before the fix: a refused claim whose highest epoch
 *                           is the claimed one teaches nothing, and a standby that never heard its
 *                           peer never claims
 *   ACK_ALONE              the "standby absent" acknowledgement rule
 *   LIVENESS               adds the stability phase used by the liveness property
 *
 * Claim retry (ha_rules::claim_retry_due / on_claim_retry): after a refused claim, a standby or
 * stepping-down node that still hears no peer claims again a fraction of a tick later instead of
 * at the next tick. Modelled as one extra claim per node between two ticks (the code may retry a
 * few times per tick; each retry is an ordinary, witness-guarded claim).
 */

#define NW 3          /* witnesses */
#define MAJ 2         /* majority = witnesses / 2 + 1 */
#ifndef L
#define L 3           /* lease, in ticks */
#endif
#define MISS 1        /* a path is down after more than MISS silent ticks */
#define DISC 1        /* discovery window at start-up, ticks */
#define TMO 1         /* witness answer timeout, ticks */
#ifndef MAXE
#define MAXE 3
#endif
#ifndef MAXREC
#define MAXREC 2
#endif

/* role */
#define STARTING 0
#define STANDBY 1
#define ACTIVE 2
#define STEPPING_DOWN 3
/* witness request kind */
#define NONE 0
#define CLAIM 1
#define RENEW 2
#define RELEASE 3
/* path */
#define NODE_LINK 0
#define UDP 1
#define NOBODY 2

/* ---- node state (ha_state) ---- */
bool up[2];
byte role[2];
byte epoch[2];
byte persisted[2];          /* the store: survives crashes */
bool claiming[2];
bool claim_refused[2];      /* the last claim was refused: the actor retries it soon */
bool retry_due[2];          /* the actor's claim-retry timer is armed, one at a time (claim_retry_armed) */
bool retried[2];            /* model bound: at most one retry per node and tick */
bool has_peer[2];
byte peer_role[2];
byte peer_epoch[2];
bool node_link_up[2];
bool udp_up[2];
byte age_node_link[2];      /* ticks since the last heartbeat on that path (saturates) */
byte age_udp[2];
byte started_age[2];        /* ticks since start() (saturates at DISC) */
byte lease[2];              /* ticks left of the holder's lease: accepts while > 0 */

/* ---- outstanding witness request per node (witness_client::ask) ---- */
byte rq_kind[2];
byte rq_epoch[2];
byte rq_age[2];             /* ticks since sent: the holder measures its lease from here */
byte rq_pend[2];            /* bit w: witness w has not processed it yet */
byte rq_granted[2];
byte rq_highest[2];
byte rq_refused[2];         /* highest epoch reported by a witness that refused */
/* requests still in flight after their tally was delivered (or their sender crashed) */
byte o_kind[2];
byte o_epoch[2];
byte o_pend[2];

/* ---- witnesses (witness_state) ---- */
byte w_epoch[NW];
byte w_holder[NW];
byte w_lease[NW];           /* ticks until the holder's lease ends at this witness */

/* ---- network ---- */
bool link_ok[2];            /* per path: not partitioned */
bool hb_has[4];             /* slot [path * 2 + to] */
byte hb_role[4];
byte hb_epoch[4];
bool handover[2];           /* switchover hand-over in flight to that node */

/* ---- replication and billing records ---- */
bool snap_req[2];
byte held[2];               /* record ids (bits) each node's store holds */
byte mine[2];               /* records a node created (it acknowledges them to their calls) */
byte acked;                 /* records acknowledged to their calls */
byte created;

/* ---- properties ---- */
byte active_in[MAXE + 1];   /* bit i: node i became active in that epoch */
bool stable;                /* LIVENESS: faults are over */
byte stayer;                /* LIVENESS: the node that stays up and reaches the witnesses */

#define ALIVE(i) (node_link_up[i] || udp_up[i])
#define ACCEPTS(i) (up[i] && role[i] == ACTIVE && lease[i] > 0)
#define PEER(i) (1 - (i))
/* peer_outranks_us: higher epoch, then priority (a=100, b=50), then the smaller node id: node 0. */
#define OUTRANKS(i) (has_peer[i] && (peer_epoch[i] != epoch[i] -> peer_epoch[i] > epoch[i] : (i) == 1))
#define MAXB(a, b) ((a) > (b) -> (a) : (b))

byte was_alive, changed, k, e, g, h, a, w, r;

/* witness_client::ask: a new request replaces the outstanding one, which stays in flight. */
inline start_request(i, kind, ep) {
  if
  :: rq_kind[i] != NONE && rq_pend[i] != 0 ->
     o_kind[i] = rq_kind[i]; o_epoch[i] = rq_epoch[i]; o_pend[i] = rq_pend[i]
  :: else -> skip
  fi;
  rq_kind[i] = kind; rq_epoch[i] = ep; rq_age[i] = 0; rq_pend[i] = 7;
  rq_granted[i] = 0; rq_highest[i] = 0; rq_refused[i] = 0
}

inline become_active_checks(i) {
  /* (a) never two nodes active in the same epoch */
  assert((active_in[epoch[i]] & (1 << PEER(i))) == 0);
  active_in[epoch[i]] = active_in[epoch[i]] | (1 << i);
  /* (c) every acknowledged record is held by the node that becomes active */
#ifndef ACK_ALONE
  assert((acked & ~held[i]) == 0);
#else
  assert((acked & ~held[i] & 3) == 0);
#endif
}

/* ha_rules::claim */
inline claim(i) {
  if
  :: claiming[i] -> skip
  :: else ->
     if
     :: epoch[i] < MAXE -> claiming[i] = 1; claim_refused[i] = 0; start_request(i, CLAIM, epoch[i] + 1)
     :: else -> skip    /* model bound on epochs */
     fi
  fi
}

/* ha_rules::demote (to standby or stepping_down) */
inline demote(i, to, ep) {
  if
  :: ep > epoch[i] -> epoch[i] = ep; persisted[i] = ep      /* persist_epoch */
  :: else -> skip
  fi;
  claiming[i] = 0;
  lease[i] = 0;
  role[i] = to;                                             /* become_standby / step_down */
  if
  :: to == STANDBY -> snap_req[i] = 1                       /* request_snapshot */
  :: else -> skip
  fi
}

inline on_higher_epoch(i, ep) {
  if
  :: ep > epoch[i] -> demote(i, STANDBY, ep)
  :: else -> skip
  fi
}

inline on_heartbeat(i, p, prole, pepoch) {
  was_alive = ALIVE(i);
  if
  :: p == NODE_LINK -> age_node_link[i] = 0; node_link_up[i] = 1
  :: else -> age_udp[i] = 0; udp_up[i] = 1
  fi;
  changed = (!has_peer[i] || peer_role[i] != prole || peer_epoch[i] != pepoch);
  has_peer[i] = 1; peer_role[i] = prole; peer_epoch[i] = pepoch;
  if
  :: pepoch > epoch[i] -> on_higher_epoch(i, pepoch)
  :: else ->
     if
     :: role[i] == ACTIVE ->
        if
        :: prole == ACTIVE && pepoch == epoch[i] && OUTRANKS(i) -> demote(i, STANDBY, pepoch)
        :: else -> skip
        fi
     :: role[i] == STARTING ->
        if
        :: prole == ACTIVE -> demote(i, STANDBY, pepoch)
        :: prole == STEPPING_DOWN -> claim(i)
        :: prole != ACTIVE && prole != STEPPING_DOWN && !OUTRANKS(i) -> claim(i)
        :: else -> skip
        fi
     :: role[i] == STEPPING_DOWN ->
        if
        :: prole == ACTIVE -> demote(i, STANDBY, pepoch)
        :: else -> skip
        fi
     :: role[i] == STANDBY ->
        if
        :: prole == ACTIVE && (!was_alive || changed) -> snap_req[i] = 1
        :: prole == ACTIVE && !(!was_alive || changed) -> skip
        :: prole == STEPPING_DOWN -> claim(i)
        :: prole != ACTIVE && prole != STEPPING_DOWN && !OUTRANKS(i) -> claim(i)
        :: else -> skip
        fi
     fi
  fi
}

inline on_tick(i) {
  was_alive = ALIVE(i);
  if
  :: node_link_up[i] && age_node_link[i] > MISS -> node_link_up[i] = 0; age_node_link[i] = 0
  :: else -> skip
  fi;
  if
  :: udp_up[i] && age_udp[i] > MISS -> udp_up[i] = 0; age_udp[i] = 0
  :: else -> skip
  fi;
  if
  :: role[i] == STARTING ->
     if
     :: !has_peer[i] && started_age[i] >= DISC -> claim(i)
     :: has_peer[i] && !ALIVE(i) -> claim(i)
     :: else -> skip
     fi
  :: role[i] == STANDBY ->
#ifdef LEGACY_CLAIM_GLUE
     if
     :: !ALIVE(i) && (was_alive || has_peer[i]) -> claim(i)
     :: else -> skip
     fi
#else
     /* with witnesses configured a standby that hears nobody claims (witness-guarded) */
     if
     :: !ALIVE(i) -> claim(i)
     :: else -> skip
     fi
#endif
  :: role[i] == STEPPING_DOWN ->
     if
     :: !ALIVE(i) -> claim(i)
     :: else -> skip
     fi
  :: role[i] == ACTIVE ->
     if
     :: lease[i] == 0 -> demote(i, STEPPING_DOWN, epoch[i])
     :: else -> start_request(i, RENEW, epoch[i])            /* renew_lease */
     fi
  fi
}

inline on_claim_result(i, ep, granted, age) {
  if
  :: claiming[i] && ep == epoch[i] + 1 ->
     claiming[i] = 0;
     if
     :: granted >= MAJ ->
        epoch[i] = ep; persisted[i] = ep;                    /* persist_epoch */
        role[i] = ACTIVE;                                    /* become_active */
#ifdef CLAIM_LEASE_FROM_RESULT
        lease[i] = L;
#else
        lease[i] = (age >= L -> 0 : L - age);
#endif
        become_active_checks(i)
     :: else -> claim_refused[i] = 1
     fi
  :: else -> skip
  fi
}

/* ha_rules::claim_retry_due: on_tick's claim condition of a standby / stepping-down node */
#define RETRY_DUE(i) (claim_refused[i] && !claiming[i] && (role[i] == STANDBY || role[i] == STEPPING_DOWN) && !ALIVE(i))

/* ha_rules::on_claim_retry */
inline on_claim_retry(i) {
  if
  :: RETRY_DUE(i) -> claim(i)
  :: else -> skip
  fi
}

inline on_renew_result(i, ep, granted, age) {
  if
  :: role[i] == ACTIVE && ep == epoch[i] && granted >= MAJ ->
     lease[i] = MAXB(lease[i], (age >= L -> 0 : L - age))
  :: else -> skip
  fi
}

inline on_switchover_request(i) {
  if
  :: role[i] == ACTIVE ->
     demote(i, STEPPING_DOWN, epoch[i]);
     start_request(i, RELEASE, epoch[i])                     /* release_lease */
  :: role[i] == STANDBY -> claim(i)
  :: else -> skip
  fi
}

/* witness_rules::claim / renew / release, node n, witness w; sets g (granted) */
inline witness_process(w, n, kind, ep) {
  g = 0;
  if
  :: kind == CLAIM ->
     if
#ifdef BROKEN_GRANT_TWICE
     :: (ep == w_epoch[w]) || (ep > w_epoch[w] && (w_lease[w] == 0 || w_holder[w] == n)) ->
#else
     :: (ep == w_epoch[w] && w_holder[w] == n) || (ep > w_epoch[w] && (w_lease[w] == 0 || w_holder[w] == n)) ->
#endif
        w_epoch[w] = ep; w_holder[w] = n; w_lease[w] = L; g = 1
     :: else -> skip
     fi
  :: kind == RENEW ->
     if
     :: ep == w_epoch[w] && w_holder[w] == n -> w_lease[w] = L; g = 1
     :: else -> skip
     fi
  :: kind == RELEASE ->
     if
     :: ep == w_epoch[w] && w_holder[w] == n -> w_lease[w] = 0; g = 1
     :: else -> skip
     fi
  fi
}

/* The actor's (claimed) / (renewed) handlers: the tally goes to the rules, then the highest epoch
   any witness reported is treated as a higher epoch. */
inline deliver_tally(i) {
  k = rq_kind[i]; e = rq_epoch[i]; g = rq_granted[i]; h = rq_highest[i]; a = rq_age[i]; r = rq_refused[i];
  if
  :: rq_pend[i] != 0 -> o_kind[i] = k; o_epoch[i] = e; o_pend[i] = rq_pend[i]
  :: else -> skip
  fi;
  rq_kind[i] = NONE; rq_pend[i] = 0; rq_granted[i] = 0; rq_highest[i] = 0; rq_age[i] = 0; rq_epoch[i] = 0;
  rq_refused[i] = 0;
  if
  :: k == CLAIM ->
     on_claim_result(i, e, g, a);
#ifdef LEGACY_CLAIM_GLUE
     if
     :: h > epoch[i] && h != e -> on_higher_epoch(i, h)
     :: else -> skip
     fi
#else
     /* ha_rules::on_claim_tally: learn an epoch above the claimed one, or the claimed one when a
        witness refused it (held by the other node there) */
     if
     :: h > e -> skip
     :: else -> h = 0
     fi;
     if
     :: r >= e -> h = MAXB(h, r)
     :: else -> skip
     fi;
     if
     :: h > epoch[i] -> on_higher_epoch(i, h)
     :: else -> skip
     fi
#endif
     ;
     /* the actor arms the retry timer when the rules say a retry is due */
     if
     :: RETRY_DUE(i) && !retry_due[i] && !retried[i] -> retry_due[i] = 1; retried[i] = 1
     :: else -> skip
     fi
  :: k == RENEW ->
     on_renew_result(i, e, g, a);
     if
     :: h > epoch[i] -> on_higher_epoch(i, h)
     :: else -> skip
     fi
  :: else -> skip    /* release: the actor ignores the answer */
  fi
}

inline crash(i) {
  up[i] = 0;
  if
  :: rq_kind[i] != NONE && rq_pend[i] != 0 ->
     o_kind[i] = rq_kind[i]; o_epoch[i] = rq_epoch[i]; o_pend[i] = rq_pend[i]
  :: else -> skip
  fi;
  rq_kind[i] = NONE; rq_pend[i] = 0; rq_granted[i] = 0; rq_highest[i] = 0; rq_age[i] = 0; rq_epoch[i] = 0;
  rq_refused[i] = 0;
  role[i] = STARTING; epoch[i] = 0; claiming[i] = 0; has_peer[i] = 0; peer_role[i] = 0;
  claim_refused[i] = 0; retry_due[i] = 0; retried[i] = 0;
  peer_epoch[i] = 0; node_link_up[i] = 0; udp_up[i] = 0; age_node_link[i] = 0; age_udp[i] = 0;
  started_age[i] = 0; lease[i] = 0; snap_req[i] = 0; handover[i] = 0;
  hb_has[NODE_LINK * 2 + i] = 0; hb_has[UDP * 2 + i] = 0;
  hb_role[NODE_LINK * 2 + i] = 0; hb_role[UDP * 2 + i] = 0;
  hb_epoch[NODE_LINK * 2 + i] = 0; hb_epoch[UDP * 2 + i] = 0
}

/* ha_rules::start with the persisted epoch */
inline restart(i) {
  up[i] = 1;
  epoch[i] = persisted[i];
  role[i] = STARTING;
  started_age[i] = 0
}

inline send_heartbeats(i) {
  if
  :: up[i] && link_ok[NODE_LINK] ->
     hb_has[NODE_LINK * 2 + PEER(i)] = 1; hb_role[NODE_LINK * 2 + PEER(i)] = role[i];
     hb_epoch[NODE_LINK * 2 + PEER(i)] = epoch[i]
  :: else -> skip
  fi;
  if
  :: up[i] && link_ok[UDP] ->
     hb_has[UDP * 2 + PEER(i)] = 1; hb_role[UDP * 2 + PEER(i)] = role[i];
     hb_epoch[UDP * 2 + PEER(i)] = epoch[i]
  :: else -> skip
  fi
}

inline age_node(i) {
  if
  :: up[i] ->
     if :: node_link_up[i] && age_node_link[i] <= MISS -> age_node_link[i]++ :: else -> skip fi;
     if :: udp_up[i] && age_udp[i] <= MISS -> age_udp[i]++ :: else -> skip fi;
     if :: started_age[i] < DISC -> started_age[i]++ :: else -> skip fi;
     if :: lease[i] > 0 -> lease[i]-- :: else -> skip fi;
     if :: rq_kind[i] != NONE && rq_age[i] < L -> rq_age[i]++ :: else -> skip fi;
     retried[i] = 0
  :: else -> skip
  fi
}

inline tick_node(i) {
  if
  :: up[i] -> on_tick(i); send_heartbeats(i)
  :: else -> skip
  fi
}

/* A tally must be delivered by the answer timeout; in the stability phase the stayer's requests
   are all answered before time moves on. */
#define TALLY_DUE(i) (up[i] && rq_kind[i] != NONE && rq_age[i] >= TMO)
#ifdef LIVENESS
/* In the stability phase the stayer's requests (and, unless OTHER_CUT_OFF, the other node's) reach
   every witness and every answer comes back before time moves on; with HEALED every heartbeat is
   delivered before the next tick as well. */
#ifdef OTHER_CUT_OFF
#define RELIABLE(nd) (CALM && up[nd] && (nd) == stayer)
#else
#define RELIABLE(nd) (CALM && up[nd])
#endif
#ifdef HEALED
#define HB_PENDING (CALM && ((hb_has[0] && up[0]) || (hb_has[1] && up[1]) || (hb_has[2] && up[0]) || (hb_has[3] && up[1])))
#define LIVE_PREMISE (CALM && up[0] && up[1] && link_ok[NODE_LINK] && link_ok[UDP])
#elif defined(OTHER_DOWN)
#define HB_PENDING false
#define LIVE_PREMISE (CALM && up[stayer] && !up[1 - stayer])
#else
#define HB_PENDING false
#define LIVE_PREMISE (CALM && up[stayer])
#endif
/* messages live a bounded time: requests sent before the faults ended are gone by then */
#define ORPHANS_EXPIRED CALM
#define STAYER_BUSY ((RELIABLE(0) && rq_kind[0] != NONE) || (RELIABLE(1) && rq_kind[1] != NONE) || HB_PENDING)
#else
#define RELIABLE(nd) false
#define ORPHANS_EXPIRED false
#define STAYER_BUSY false
#endif
#ifdef LIVENESS
/* Liveness needs room for the epochs recovery takes after the faults (the model bounds epochs):
   the faults end (CALM) when `stable` is chosen or once a persisted or granted epoch reaches
   MAXE - 2. Both are monotone, so CALM stays true. */
#define ROOM (persisted[0] + 2 < MAXE && persisted[1] + 2 < MAXE && w_epoch[0] + 2 < MAXE \
              && w_epoch[1] + 2 < MAXE && w_epoch[2] + 2 < MAXE)
#define CALM (stable || !ROOM)
#define FAULTS_ALLOWED (!CALM)
#else
#define FAULTS_ALLOWED (!stable)
#endif

/* (b): never two nodes accepting new calls at the same instant */
#define CHECK_B assert(!(ACCEPTS(0) && ACCEPTS(1)))

#define DELIVER_HB(slot) \
  d_step { hb_has[slot] && up[(slot) % 2] -> \
    hb_has[slot] = 0; \
    on_heartbeat((slot) % 2, (slot) / 2, hb_role[slot], hb_epoch[slot]); \
    hb_role[slot] = 0; hb_epoch[slot] = 0; \
    CHECK_B }

#define PROCESS(nd, wt) \
  d_step { rq_kind[nd] != NONE && (rq_pend[nd] & (1 << (wt))) != 0 -> \
    rq_pend[nd] = rq_pend[nd] & ~(1 << (wt)); \
    witness_process(wt, nd, rq_kind[nd], rq_epoch[nd]); \
    rq_granted[nd] = rq_granted[nd] + g; rq_highest[nd] = MAXB(rq_highest[nd], w_epoch[wt]); \
    if \
    :: g == 0 -> rq_refused[nd] = MAXB(rq_refused[nd], w_epoch[wt]) \
    :: else -> skip \
    fi; \
    g = 0; \
    CHECK_B }

/* the same, but the witness's answer is lost on the way back */
#define PROCESS_ANSWER_LOST(nd, wt) \
  d_step { !RELIABLE(nd) && rq_kind[nd] != NONE && (rq_pend[nd] & (1 << (wt))) != 0 -> \
    rq_pend[nd] = rq_pend[nd] & ~(1 << (wt)); \
    witness_process(wt, nd, rq_kind[nd], rq_epoch[nd]); \
    g = 0; \
    CHECK_B }

#define PROCESS_ORPHAN(nd, wt) \
  d_step { !ORPHANS_EXPIRED && o_kind[nd] != NONE && (o_pend[nd] & (1 << (wt))) != 0 -> \
    o_pend[nd] = o_pend[nd] & ~(1 << (wt)); \
    witness_process(wt, nd, o_kind[nd], o_epoch[nd]); \
    if \
    :: o_pend[nd] == 0 -> o_kind[nd] = NONE; o_epoch[nd] = 0 \
    :: else -> skip \
    fi; \
    g = 0; \
    CHECK_B }

init {
  d_step {
    up[0] = 1; up[1] = 1;
    w_holder[0] = NOBODY; w_holder[1] = NOBODY; w_holder[2] = NOBODY;
    link_ok[NODE_LINK] = 1; link_ok[UDP] = 1
  };
  do
  /* time passes: every timer moves, then each node's periodic evaluation and heartbeats */
  :: d_step {
       !TALLY_DUE(0) && !TALLY_DUE(1) && !STAYER_BUSY ->
       age_node(0); age_node(1);
       if :: w_lease[0] > 0 -> w_lease[0]-- :: else -> skip fi;
       if :: w_lease[1] > 0 -> w_lease[1]-- :: else -> skip fi;
       if :: w_lease[2] > 0 -> w_lease[2]-- :: else -> skip fi;
       tick_node(0); tick_node(1);
       CHECK_B
     }
  /* a heartbeat reaches its node (slot = path * 2 + receiver) */
  :: DELIVER_HB(0)
  :: DELIVER_HB(1)
  :: DELIVER_HB(2)
  :: DELIVER_HB(3)
  /* a witness processes a node's outstanding request; its answer reaches the tally or is lost */
  :: PROCESS(0, 0)
  :: PROCESS(0, 1)
  :: PROCESS(0, 2)
  :: PROCESS(1, 0)
  :: PROCESS(1, 1)
  :: PROCESS(1, 2)
  :: PROCESS_ANSWER_LOST(0, 0)
  :: PROCESS_ANSWER_LOST(0, 1)
  :: PROCESS_ANSWER_LOST(0, 2)
  :: PROCESS_ANSWER_LOST(1, 0)
  :: PROCESS_ANSWER_LOST(1, 1)
  :: PROCESS_ANSWER_LOST(1, 2)
  /* a witness processes a request still in flight whose tally is gone (no answer) */
  :: PROCESS_ORPHAN(0, 0)
  :: PROCESS_ORPHAN(0, 1)
  :: PROCESS_ORPHAN(0, 2)
  :: PROCESS_ORPHAN(1, 0)
  :: PROCESS_ORPHAN(1, 1)
  :: PROCESS_ORPHAN(1, 2)
  /* the tally reaches the actor (all answered, or the answer timeout) */
  :: d_step { up[0] && rq_kind[0] != NONE && (rq_pend[0] == 0 || rq_age[0] >= TMO) ->
       deliver_tally(0); k = 0; e = 0; g = 0; h = 0; a = 0; r = 0; CHECK_B }
  :: d_step { up[1] && rq_kind[1] != NONE && (rq_pend[1] == 0 || rq_age[1] >= TMO) ->
       deliver_tally(1); k = 0; e = 0; g = 0; h = 0; a = 0; r = 0; CHECK_B }
  /* the claim-retry timer fires */
  :: d_step { up[0] && retry_due[0] -> retry_due[0] = 0; on_claim_retry(0); CHECK_B }
  :: d_step { up[1] && retry_due[1] -> retry_due[1] = 0; on_claim_retry(1); CHECK_B }
  /* graceful switchover asked on the active (HTTP); hand-over travels over the node link */
  :: d_step { FAULTS_ALLOWED && up[0] && role[0] == ACTIVE && link_ok[NODE_LINK] && ALIVE(0) ->
       on_switchover_request(0); handover[1] = up[1]; CHECK_B }
  :: d_step { FAULTS_ALLOWED && up[1] && role[1] == ACTIVE && link_ok[NODE_LINK] && ALIVE(1) ->
       on_switchover_request(1); handover[0] = up[0]; CHECK_B }
  :: d_step { handover[0] && up[0] -> handover[0] = 0; on_switchover_request(0); CHECK_B }
  :: d_step { handover[1] && up[1] -> handover[1] = 0; on_switchover_request(1); CHECK_B }
  /* calls: a node accepting new calls writes a billing record */
  :: d_step { ACCEPTS(0) && created < MAXREC ->
       held[0] = held[0] | (1 << created); mine[0] = mine[0] | (1 << created); created++; CHECK_B }
  :: d_step { ACCEPTS(1) && created < MAXREC ->
       held[1] = held[1] | (1 << created); mine[1] = mine[1] | (1 << created); created++; CHECK_B }
  /* replication over the node link, epoch-fenced: snapshot for a (re)joined standby, then stream */
  :: d_step { up[0] && up[1] && link_ok[NODE_LINK] && role[0] == ACTIVE && role[1] == STANDBY &&
              epoch[0] >= epoch[1] && snap_req[1] -> held[1] = held[0]; snap_req[1] = 0 }
  :: d_step { up[0] && up[1] && link_ok[NODE_LINK] && role[1] == ACTIVE && role[0] == STANDBY &&
              epoch[1] >= epoch[0] && snap_req[0] -> held[0] = held[1]; snap_req[0] = 0 }
  :: d_step { up[0] && up[1] && link_ok[NODE_LINK] && role[0] == ACTIVE && role[1] == STANDBY &&
              epoch[0] >= epoch[1] && !snap_req[1] && (held[0] & ~held[1]) != 0 ->
              held[1] = held[1] | held[0] }
  :: d_step { up[0] && up[1] && link_ok[NODE_LINK] && role[1] == ACTIVE && role[0] == STANDBY &&
              epoch[1] >= epoch[0] && !snap_req[0] && (held[1] & ~held[0]) != 0 ->
              held[0] = held[0] | held[1] }
  /* acknowledgement to the call: both nodes hold the record */
  :: d_step { up[0] && (mine[0] & held[0] & held[1] & ~acked) != 0 ->
              acked = acked | (mine[0] & held[0] & held[1]) }
  :: d_step { up[1] && (mine[1] & held[0] & held[1] & ~acked) != 0 ->
              acked = acked | (mine[1] & held[0] & held[1]) }
#ifdef ACK_ALONE
  /* ... or its active sees no standby on either path */
  :: d_step { up[0] && role[0] == ACTIVE && !ALIVE(0) && (mine[0] & held[0] & ~acked) != 0 ->
              acked = acked | (mine[0] & held[0]) }
  :: d_step { up[1] && role[1] == ACTIVE && !ALIVE(1) && (mine[1] & held[1] & ~acked) != 0 ->
              acked = acked | (mine[1] & held[1]) }
#endif
  /* faults */
  :: d_step { FAULTS_ALLOWED && up[0] -> crash(0) }
  :: d_step { FAULTS_ALLOWED && up[1] -> crash(1) }
  :: d_step { FAULTS_ALLOWED && !up[0] -> restart(0) }
  :: d_step { FAULTS_ALLOWED && !up[1] -> restart(1) }
  :: d_step { FAULTS_ALLOWED -> link_ok[NODE_LINK] = !link_ok[NODE_LINK] }
  :: d_step { FAULTS_ALLOWED -> link_ok[UDP] = !link_ok[UDP] }
  /* a witness restarts: it keeps its persisted grant and waits a full lease before a new grant */
  :: d_step { FAULTS_ALLOWED && w_holder[0] != NOBODY && w_lease[0] < L -> w_lease[0] = L }
  :: d_step { FAULTS_ALLOWED && w_holder[1] != NOBODY && w_lease[1] < L -> w_lease[1] = L }
  :: d_step { FAULTS_ALLOWED && w_holder[2] != NOBODY && w_lease[2] < L -> w_lease[2] = L }
#ifdef LIVENESS
  /* faults end: one node that is up stays up and reaches the witnesses from now on */
  :: d_step { !stable && up[0] -> stable = 1; stayer = 0 }
  :: d_step { !stable && up[1] -> stable = 1; stayer = 1 }
#endif
  od
}

#ifdef LIVENESS
/* (d) once faults are over and one node stays up reaching the witnesses, some node is active */
ltl eventually_active { [] (LIVE_PREMISE -> <> ((up[0] && role[0] == ACTIVE) || (up[1] && role[1] == ACTIVE))) }
#endif
