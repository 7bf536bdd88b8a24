"""The deployment under a rate of uploads, as a discrete-event simulation (simpy).

Uploads move as cohorts: the uploads that arrive in one time step travel together and split
when only part of them can be served. That keeps the cost of a run independent of the rate
(10,000 uploads/s simulate as fast as 10), while queues, instance start-up, pending-request
timeouts and retries stay events in time. What each upload does, in order:

1. POST /uploads on results_api (a signed URL: one IAM signBlob, within its per-minute quota);
2. the browser PUTs the recording into the uploads bucket (within its write capacity);
3. Eventarc delivers the finalize event to preprocess: a 429 (no instance free within the
   pending time) is retried with backoff for up to 24 h, and preprocess never counts it as an
   attempt, so overload only delays it;
4. Pub/Sub pushes the features to predict: every 429 is a delivery attempt, and past the
   subscription's max_delivery_attempts the message is dead-lettered and the upload failed;
5. while the result is not final the page polls GET /results (250 ms growing x1.5 up to 2 s);
   a poll answered 429 ends the page's wait (it stops on a 4xx), as does its 180 s deadline.

A function is a pool of instances: a request takes a slot when one is free, else waits; a
new instance is started whenever the waiting and running requests outgrow the instances
ready or starting (up to max instances) and serves after its cold start.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import simpy

from shared.capacity.deployment import Deployment, cost_script, sequential_index_ranges
from shared.capacity.limits import assumption, limit
from shared.capacity.service_times import Measured, ServiceTime

EPS = 1e-9
# The page's polling (frontend_stub/src/lib/poll.js backoffDelay and pollResult's deadline).
POLL_FIRST_S, POLL_FACTOR, POLL_MAX_S, POLL_DEADLINE_S = 0.25, 1.5, 2.0, 180.0
# Eventarc's retry backoff of an event-driven function: 10 s growing to 600 s.
EVENTARC_BACKOFF_S = (10.0, 600.0)
# Cloud Run adds instances to keep their CPU near this utilization (limits.CLOUD_RUN_AUTOSCALING).
CPU_TARGET = 0.6
# The autoscaler's view of a stage's arrival rate is smoothed over about this long.
SCALE_WINDOW_S = 1.0


@dataclass
class Cohort:
    origin: int  # the time step the uploads arrived in
    count: float
    attempt: int = 1
    queued_at: float = 0.0
    service: str = ""  # which ServiceTime serves it (results_api serves two kinds)


@dataclass
class Weighted:
    """Values with weights (counts of uploads), for quantiles."""

    pairs: list[tuple[float, float]] = field(default_factory=list)

    def add(self, value: float, weight: float) -> None:
        if weight > EPS:
            self.pairs.append((value, weight))

    def quantile(self, q: float) -> float:
        if not self.pairs:
            return 0.0
        ordered = sorted(self.pairs)
        total = sum(w for _, w in ordered)
        running = 0.0
        for value, weight in ordered:
            running += weight
            if running > q * total + EPS:
                return value
        return ordered[-1][0]


class Stage:
    """One function: instances ready and starting, requests in service, a FIFO of waiting cohorts."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        sizing,
        services: dict[str, ServiceTime],
        cold_start_s: float,
        on_done: Callable[[Cohort], None],
        on_reject: Callable[[Cohort], None],
        warm: int = 0,
    ) -> None:
        self.env, self.name, self.sizing = env, name, sizing
        self.services, self.cold_start_s = services, cold_start_s
        self.on_done, self.on_reject = on_done, on_reject
        self.ready = max(warm, sizing.min_instances)
        self.starting = 0
        self.queue: deque[Cohort] = deque()
        self.in_service = 0.0
        self.slots = _slots_per_instance(sizing, services[next(iter(services))])
        self.latency = Weighted()
        self.peak_instances = self.ready
        self.instances_started = 0
        self.billed_instance_s = 0.0
        self.requests = 0.0
        self.rejected = 0.0
        self.pending_s = assumption("pending_s")
        self.arrivals = 0.0  # seconds of work submitted since the last tick
        self.rate_in = 0.0  # seconds of work arriving a second, smoothed over about a second

    def submit(self, cohort: Cohort) -> None:
        cohort.queued_at = self.env.now
        self.queue.append(cohort)
        self.arrivals += cohort.count * self._seconds(cohort)

    def tick(self, dt: float) -> None:
        now = self.env.now
        while self.queue and now - self.queue[0].queued_at >= self.pending_s - EPS:
            cohort = self.queue.popleft()
            self.rejected += cohort.count
            self.on_reject(cohort)
        free = self.ready * self.slots - self.in_service
        while self.queue and free > EPS:
            cohort = self.queue[0]
            take = min(cohort.count, free)
            if take >= cohort.count - EPS:
                self.queue.popleft()
                served = cohort
            else:
                cohort.count -= take
                served = Cohort(cohort.origin, take, cohort.attempt, cohort.queued_at, cohort.service)
            free -= served.count
            self._serve(served)
        self._scale(dt)

    def _seconds(self, cohort: Cohort) -> float:
        return self.services[cohort.service or next(iter(self.services))].seconds(self.sizing.vcpu)

    def _serve(self, cohort: Cohort) -> None:
        service = self.services[cohort.service or next(iter(self.services))]
        seconds = service.seconds(self.sizing.vcpu)
        waited = self.env.now - cohort.queued_at
        spread = service.quantile(self.sizing.vcpu, 0.99) - seconds
        self.latency.add(waited + seconds, cohort.count * 0.99)
        self.latency.add(waited + seconds + spread, cohort.count * 0.01)
        self.in_service += cohort.count
        self.requests += cohort.count
        self._bill(seconds, cohort.count)
        self.env.process(self._finish(cohort, seconds))

    def _finish(self, cohort: Cohort, seconds: float):
        yield self.env.timeout(seconds)
        self.in_service -= cohort.count
        self.on_done(cohort)

    def _scale(self, dt: float) -> None:
        """Instances for the requests arriving now, plus enough to clear the backlog within one cold start."""
        self.rate_in += (self.arrivals / dt - self.rate_in) * min(1.0, dt / SCALE_WINDOW_S)
        self.arrivals = 0.0
        waiting = sum(c.count * self._seconds(c) for c in self.queue)
        busy = max(self.in_service, self.rate_in) + waiting / self.cold_start_s
        needed = math.ceil(busy / self.slots - EPS)
        room = self.sizing.max_instances - self.ready - self.starting
        start = min(needed - self.ready - self.starting, room)
        for _ in range(max(0, start)):
            self.starting += 1
            self.instances_started += 1
            self.env.process(self._start())
        self.peak_instances = max(self.peak_instances, self.ready + self.starting)

    def _start(self):
        yield self.env.timeout(self.cold_start_s)
        self.starting -= 1
        self.ready += 1
        self.billed_instance_s += self.cold_start_s  # start-up is billed

    def _bill(self, seconds: float, count: float) -> None:
        """Request-based billing: an instance is billed while it serves, a busy stretch rounded up to
        100 ms. A request is billed its own rounded time, shared with the requests it overlaps on its
        instance (at most the instance's slots): alone at low traffic, packed at high."""
        sharing = max(1.0, min(self.slots, self.in_service))
        self.billed_instance_s += count * cost_script().billed_seconds(seconds) / sharing

    def idle(self) -> bool:
        return not self.queue and self.in_service <= EPS


def _slots_per_instance(sizing, service: ServiceTime) -> float:
    """Concurrent requests an instance takes: its concurrency, or fewer once its CPU is at the target."""
    if sizing.concurrency <= 1:
        return 1.0
    seconds = service.seconds(sizing.vcpu)
    cpu_share = service.cpu_s / min(sizing.vcpu, assumption("gil_cores")) / seconds
    return max(1.0, min(float(sizing.concurrency), CPU_TARGET / cpu_share))


def poll_delay(attempt: int) -> float:
    return min(POLL_MAX_S, POLL_FIRST_S * POLL_FACTOR**attempt)


def polls_until(seconds: float) -> int:
    """Polls the page makes for a result ready `seconds` after the upload (the last one sees it)."""
    polls, at = 1, 0.0
    while at < seconds:
        at += poll_delay(polls - 1)
        polls += 1
    return polls


class RateCap:
    """A quota or capacity counted per window: what exceeds it in the window is refused."""

    def __init__(self, per_s: float, window_s: float) -> None:
        self.allowance, self.window_s = per_s * window_s, window_s
        self.window, self.used = -1, 0.0

    def admit(self, now: float, count: float) -> float:
        window = math.floor(now / self.window_s + 1e-6)  # the clock adds up 50 ms steps: absorb the drift
        if window != self.window:
            self.window, self.used = window, 0.0
        admitted = max(0.0, min(count, self.allowance - self.used))
        self.used += admitted
        return admitted


@dataclass
class Outcome:
    rate: float
    burst_s: float | None
    uploads: float = 0.0
    done: float = 0.0
    failed_by: dict[str, float] = field(default_factory=dict)
    end_to_end: Weighted = field(default_factory=Weighted)
    stages: dict[str, Stage] = field(default_factory=dict)
    polls: float = 0.0
    firestore_delay: Weighted = field(default_factory=Weighted)
    api_calls: dict[str, float] = field(default_factory=dict)
    seconds_simulated: float = 0.0

    def fail(self, reason: str, count: float) -> None:
        if count > EPS:
            self.failed_by[reason] = self.failed_by.get(reason, 0.0) + count

    @property
    def failed(self) -> float:
        return sum(self.failed_by.values())


class Simulation:
    def __init__(
        self, deployment: Deployment, measured: Measured, rate: float, burst_s: float | None
    ) -> None:
        self.deployment, self.measured = deployment, measured
        self.rate, self.burst_s = rate, burst_s
        self.env = simpy.Environment()
        self.dt = assumption("tick_s")
        self.out = Outcome(rate, burst_s)
        self.arrived_at: dict[int, float] = {}
        self.uploaded: dict[int, float] = {}
        self.finished: dict[int, float] = {}
        self.sign_blob = RateCap(limit("iam_sign_blob") / 60, 60.0)
        writes = cost_script().FIRESTORE_WRITES_PER_UPLOAD
        # With a rising indexed value every write of an upload counts against its index range's limit.
        ranges = sequential_index_ranges(deployment)
        self.firestore_uploads_per_s = limit("firestore_sequential_index") * ranges / writes
        self.firestore_free_at = 0.0
        self._stages()

    def _stages(self) -> None:
        m, sizing = self.measured, self.deployment.sizing
        steady = self.burst_s is None
        env = self.env

        def warm(name: str, services: dict[str, float]) -> int:
            """A steady rate meets the instances it needs already started (`services`: calls per upload)."""
            if not steady:
                return 0
            s = sizing[name]
            need = self.rate * sum(n * m.service[kind].seconds(s.vcpu) for kind, n in services.items())
            return min(
                s.max_instances, math.ceil(need / _slots_per_instance(s, m.service[next(iter(services))]))
            )

        pipeline_s = sum(m.service[name].seconds(sizing[name].vcpu) for name in ("preprocess", "predict"))
        # results_api calls per upload when nothing queues: one POST, and polls until the answer.
        self.out.api_calls = {"poll": float(polls_until(pipeline_s)), "upload_url": 1.0}
        api_services = {"poll": m.service["poll"], "upload_url": m.service["upload_url"]}
        self.api = Stage(
            env, "results_api", sizing["results_api"], api_services,
            m.cold_start_s("results_api", sizing["results_api"].vcpu),
            self._api_done, self._api_rejected,
            warm("results_api", self.out.api_calls),
        )  # fmt: skip
        self.preprocess = Stage(
            env, "preprocess", sizing["preprocess"], {"preprocess": m.service["preprocess"]},
            m.cold_start_s("preprocess", sizing["preprocess"].vcpu),
            self._preprocessed, self._event_rejected, warm("preprocess", {"preprocess": 1}),
        )  # fmt: skip
        self.predict = Stage(
            env, "predict", sizing["predict"], {"predict": m.service["predict"]},
            m.cold_start_s("predict", sizing["predict"].vcpu),
            self._predicted, self._push_rejected, warm("predict", {"predict": 1}),
        )  # fmt: skip
        self.out.stages = {s.name: s for s in (self.api, self.preprocess, self.predict)}
        # An upload's 99th percentile adds each pipeline stage's slow tail to its queueing.
        self.spread_s = sum(
            stage.services[name].quantile(stage.sizing.vcpu, 0.99)
            - stage.services[name].seconds(stage.sizing.vcpu)
            for name, stage in (("preprocess", self.preprocess), ("predict", self.predict))
        )

    # --- the upload's path ----------------------------------------------------------------

    def _arrive(self, origin: int, count: float) -> None:
        self.out.uploads += count
        self.arrived_at[origin] = self.env.now
        self.finished[origin] = 0.0
        admitted = self.sign_blob.admit(self.env.now, count)
        self.out.fail("IAM signBlob quota (POST /uploads answered 5xx)", count - admitted)
        if admitted > EPS:
            self.api.submit(Cohort(origin, admitted, service="upload_url"))

    def _api_done(self, cohort: Cohort) -> None:
        if cohort.service == "upload_url":
            # The bucket's write capacity is guidance (latency and errors while it rebalances): the
            # plan names it when the rate reaches it (plan.pressures) and lets the PUT through.
            self.uploaded[cohort.origin] = self.uploaded.get(cohort.origin, 0.0) + cohort.count
            self.preprocess.submit(Cohort(cohort.origin, cohort.count))
            self.env.process(self._page(cohort.origin, cohort.count))

    def _api_rejected(self, cohort: Cohort) -> None:
        if cohort.service == "upload_url":
            self.out.fail("results_api full: POST /uploads answered 429", cohort.count)
        else:
            # A page may have a second poll out before the first is answered: each page stops once.
            stopped = self.page_stopped.get(cohort.origin, 0.0)
            count = min(cohort.count, self.uploaded[cohort.origin] - stopped)
            self.page_stopped[cohort.origin] = stopped + count
            self.out.fail("results_api full: a poll answered 429 (the page stops)", count)

    def _preprocessed(self, cohort: Cohort) -> None:
        self.predict.submit(Cohort(cohort.origin, cohort.count))

    def _event_rejected(self, cohort: Cohort) -> None:
        """Eventarc retries with backoff until the event is 24 h old; preprocess counts no attempt."""
        low, high = EVENTARC_BACKOFF_S
        wait = min(high, low * 2 ** (cohort.attempt - 1))
        if self.env.now + wait - self.arrived_at[cohort.origin] > limit("eventarc_retry_window"):
            self.out.fail("Eventarc gave up (24 h)", cohort.count)
            self._final(cohort)
            return
        self.env.process(
            self._retry(self.preprocess, Cohort(cohort.origin, cohort.count, cohort.attempt + 1), wait)
        )

    def _push_rejected(self, cohort: Cohort) -> None:
        """Every 429 is a delivery attempt; past max_delivery_attempts Pub/Sub dead-letters it."""
        d = self.deployment
        if cohort.attempt >= d.max_delivery_attempts:
            self.out.fail("dead-lettered after max_delivery_attempts (predict full)", cohort.count)
            self._final(cohort)
            return
        wait = min(d.push_max_backoff_s, d.push_min_backoff_s * 2 ** (cohort.attempt - 1))
        self.env.process(
            self._retry(self.predict, Cohort(cohort.origin, cohort.count, cohort.attempt + 1), wait)
        )

    def _retry(self, stage: Stage, cohort: Cohort, wait: float):
        yield self.env.timeout(wait)
        stage.submit(cohort)

    def _predicted(self, cohort: Cohort) -> None:
        """The result's writes: with a rising indexed field, the collection's write limit queues them."""
        start = max(self.env.now, self.firestore_free_at)
        self.firestore_free_at = start + cohort.count / self.firestore_uploads_per_s
        delay = self.firestore_free_at - self.env.now
        self.out.firestore_delay.add(delay, cohort.count)
        self.env.process(self._written(cohort, delay))

    def _written(self, cohort: Cohort, delay: float):
        yield self.env.timeout(delay)
        self.out.done += cohort.count
        latency = self.env.now - self.arrived_at[cohort.origin]
        self.out.end_to_end.add(latency, cohort.count * 0.99)
        self.out.end_to_end.add(latency + self.spread_s, cohort.count * 0.01)
        self._final(cohort)

    def _final(self, cohort: Cohort) -> None:
        """The uploads' results are final (done or failed): their pages stop polling."""
        self.finished[cohort.origin] += cohort.count

    def _page(self, origin: int, count: float):
        """The page polls until the result is final; a 429 or the deadline ends its wait."""
        started, attempt, seen = self.env.now, 0, 0.0
        while True:
            stopped = self.page_stopped.get(origin, 0.0)
            waiting = self.uploaded[origin] - seen - stopped
            if waiting <= EPS:
                return
            polls = min(count, waiting)
            self.out.polls += polls
            self.api.submit(Cohort(origin, polls, service="poll"))
            seen = min(self.uploaded[origin] - stopped, self.finished[origin])
            if self.env.now - started >= POLL_DEADLINE_S:
                self.out.fail("the page's 180 s wait ran out", self.uploaded[origin] - seen - stopped)
                return
            yield self.env.timeout(poll_delay(attempt))
            attempt += 1

    # --- the clock ---------------------------------------------------------------------------

    def _clock(self, stop: simpy.Event):
        steady = self.burst_s is None
        length = assumption("steady_s") if steady else self.burst_s
        rise = 0.0 if steady else assumption("rise_s")
        end = length + assumption("drain_s")
        step = 0
        while True:
            now = self.env.now
            if now < length - EPS:
                rate = self.rate * (min(1.0, (now + self.dt) / rise) if rise else 1.0)
                self._arrive(step, rate * self.dt)
            for stage in (self.api, self.preprocess, self.predict):
                stage.tick(self.dt)
            settled = all(
                self.finished.get(o, 0) + self.page_stopped.get(o, 0) >= n - 1e-6
                for o, n in self.uploaded.items()
            )
            if now >= end or (now >= length and settled and all(s.idle() for s in self.out.stages.values())):
                self.out.seconds_simulated = now
                stop.succeed()
                return
            step += 1
            yield self.env.timeout(self.dt)

    def run(self) -> Outcome:
        self.page_stopped: dict[int, float] = {}
        stop = self.env.event()
        self.env.process(self._clock(stop))
        self.env.run(until=stop)
        return self.out


def simulate(
    deployment: Deployment, measured: Measured, rate: float, burst_s: float | None = None
) -> Outcome:
    """Run the model: a steady `rate` on warm instances, or a burst of `burst_s` seconds from idle."""
    if not rate > 0:
        raise ValueError(f"the rate must be a positive number of uploads per second, not {rate}")
    if burst_s is not None and not burst_s > 0:
        raise ValueError(f"a burst lasts a positive number of seconds, not {burst_s}")
    return Simulation(deployment, measured, rate, burst_s).run()
