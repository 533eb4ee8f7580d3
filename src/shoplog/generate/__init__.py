"""Deterministic synthetic shop event log, in the format of ``docs/event-standard.md``.

``generate(out, start, days, users, seed)`` simulates a web shop: a product catalogue, ``users``
real persons browsing on one to three devices, signing up, logging in, ordering, paying, getting
their orders shipped, delivered, cancelled or refunded, and a few (``deletion_rate``) asking the
shop to forget them after their last visit (a ``privacy`` event). It writes the events as gzip
NDJSON files partitioned by ``received_at`` (``source=<s>/date=<d>/hour=<h>/part-00000.ndjson.gz``)
and the ground truth of who is who under ``_truth/`` (CSV), for tests of identity resolution.

Who is who: a person browses on their first device until the shop can recognise them (they sign
up, or give their email at a guest checkout, where the site's tag sends an ``identify`` with
it); from then on they may use their other devices, and the first visit on each one identifies
them: a login when they have an account, else an ``identify`` from a link in the shop's email.
So every device of a person is tied to them by some event of the log. (Browsing on two devices
without ever telling the shop who you are leaves nothing that joins them: no resolver could
find it, and no test could measure it, so the generator does not produce it.)

Everything derives from ``random.Random(seed)``: the same arguments give byte-identical files.
Optional *hard cases* (shared devices, look-alike emails, guest orders later claimed by an
account, emails typed differently across events) and *faults* (duplicate delivery, late events,
clock skew, malformed lines, unknown event types, ``add_to_cart`` v2) can be switched on. Faults
draw from their own random streams, so switching one on changes only the lines it touches.

Scale (measured on 2 vCPUs, one used): the default ``users=1000, days=28`` gives about 115k
events (about 40% of persons sign up, about 4% buy) in about 5 s; ``users=8700, days=28`` gives
about 1.0M events in about 50 s wall time. Memory does not grow with the log: lines and ground
truth beyond ``spill_bytes`` (64 MiB) go to a temporary folder beside ``out`` and each file is
made from its spilled part when it is written (peak RSS about 100 MB at 1,000 users).

Choices the event standard leaves open: optional envelope keys are left out when they do not
apply (``user_id`` is only present on web events of a logged-in visit, and always present,
possibly ``null``, on ``order_created``; ``order_id`` is left out of the ~10% of payment events
without a reference); the first ``order_status_changed`` of an order (``paid``, or
``cancelled`` after a failed payment) has ``previous_status`` ``null``. Ids: ``p_NNNNN``
(persons, truth only), ``u_``, ``o_``, ``pay_``, ``pc_``, ``re_`` with gapped numbers;
``anonymous_id`` and ``event_id`` are uuid-shaped. Events received after the end of the period
are not written, except where a fault (late delivery, duplicate) moves a line past it.

Modules, in the order a run uses them:

* ``run``: ``generate()`` and ``GenerateSummary``; sets up a ``Simulator``, lands the files.
* ``simulator``: the random streams, the world, and each person's life (visits, deletion).
* ``world``: what persons act on (emitter, catalogue, population, hard cases, id sequences).
* ``people``: persons, devices, emails and how they are typed; the hard cases.
* ``visits``: one visit on one device (landing, login, browsing, signup, checkout).
* ``orders``: an order's payments, status changes and refunds.
* ``catalog``: products and their prices over time.
* ``emitter``: one event in, its line(s) out (truth, faults, envelope, landing).
* ``envelope``: the event envelope and its serialisation.
* ``faults``: ``Faults`` and their injection.
* ``writer``: landing files (hour partitions, spilled lines, gzip, staged, never overwritten).
* ``truth``: the ground-truth files under ``_truth/`` the tests read.
* ``spill``: records spilled to disk in sorted runs, read back merged (for ``truth``).
* ``vocabulary``, ``clock``, ``draws``: word lists and weights; time; small random draws.
"""

from __future__ import annotations

from shoplog.generate.faults import Faults
from shoplog.generate.run import GenerateSummary, generate
from shoplog.generate.simulator import DELETION_RATE

__all__ = ["DELETION_RATE", "Faults", "GenerateSummary", "generate"]
