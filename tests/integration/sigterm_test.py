#!/usr/bin/python3
"""SIGTERM during load against a real service binary: health must turn
NOT_SERVING first while calls keep being served through the grace period,
calls in flight finish, and the process exits 0 within grace + drain.

usage: sigterm_test.py <build dir> <source dir>
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from handoff_testing import free_port, generate_stubs  # noqa: E402

BUILD, SOURCE = sys.argv[1], sys.argv[2]
GRACE_S, DRAIN_S = 2.0, 5.0




class SigtermDrain(unittest.TestCase):
    def test_sigterm_under_load(self):
        import grpc
        tmp = tempfile.mkdtemp(prefix="handoff-sigterm-")
        generate_stubs(SOURCE, os.path.join(tmp, "stubs"))
        from handoff.persona.v1 import persona_pb2, persona_pb2_grpc

        port = free_port()
        log = open(os.path.join(tmp, "persona.log"), "w")
        proc = subprocess.Popen(
            [os.path.join(BUILD, "services/persona/handoff-persona"),
             "--listen_host=127.0.0.1", "--port=%d" % port, "--metrics_port=0",
             "--db_path=%s/persona.db" % tmp, "--db_sync=normal",
             "--shutdown_grace=%gs" % GRACE_S, "--drain_timeout=%gs" % DRAIN_S],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            channel = grpc.insecure_channel("127.0.0.1:%d" % port)
            grpc.channel_ready_future(channel).result(timeout=20)
            stub = persona_pb2_grpc.PersonaServiceStub(channel)
            for i in range(50):
                stub.CreatePersona(persona_pb2.CreatePersonaRequest(persona=persona_pb2.Persona(
                    display_name="p%d" % i, criteria=persona_pb2.PersonaCriteria(
                        industries=["software"]))), timeout=5)

            health_events = []  # (time, status byte)
            watch = channel.unary_stream(
                "/grpc.health.v1.Health/Watch",
                request_serializer=lambda b: b, response_deserializer=lambda b: b)

            def watch_health():
                try:
                    for reply in watch(b"", timeout=30):
                        health_events.append((time.monotonic(), reply))
                except grpc.RpcError:
                    pass
            threading.Thread(target=watch_health, daemon=True).start()
            deadline = time.monotonic() + 10
            while not health_events and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertEqual(health_events[0][1], b"\x08\x01", "SERVING first")

            results = []  # (start, end, code name)
            stop = threading.Event()
            profile = persona_pb2.LeadProfile(industry="software", country="DE")

            def load():
                while not stop.is_set():
                    start = time.monotonic()
                    try:
                        stub.MatchPersona(persona_pb2.MatchPersonaRequest(profile=profile), timeout=10)
                        code = "OK"
                    except grpc.RpcError as e:
                        code = e.code().name
                    results.append((start, time.monotonic(), code))
            threads = [threading.Thread(target=load) for _ in range(6)]
            for t in threads:
                t.start()
            time.sleep(0.5)  # let load build up before the signal
            sigterm_at = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=GRACE_S + DRAIN_S + 10)
            exited_at = time.monotonic()
            stop.set()
            for t in threads:
                t.join()

            self.assertEqual(code, 0, "exit code after SIGTERM")
            self.assertLess(exited_at - sigterm_at, GRACE_S + DRAIN_S + 3)
            not_serving = [t for t, s in health_events if s == b"\x08\x02"]
            self.assertTrue(not_serving, "health never reported NOT_SERVING: %s" % health_events)
            flipped_at = not_serving[0]
            self.assertLess(flipped_at - sigterm_at, 1.0)
            # Served through the grace period after health flipped.
            served_after_flip = [r for r in results if r[0] > flipped_at and r[2] == "OK"]
            self.assertGreater(len(served_after_flip), 10)
            # Every call that started before the drain began (end of the grace
            # period) finished OK. Later ones found the listener closed, or
            # were cut at the drain deadline.
            # (Half a second of margin: a call leaves the client a little
            # before it reaches the server on a busy machine.)
            drain_began = sigterm_at + GRACE_S
            before_drain = [r for r in results if r[0] < drain_began - 0.5]
            self.assertTrue(before_drain)
            late = [(round(r[0] - sigterm_at, 3), r[2]) for r in before_drain if r[2] != "OK"]
            self.assertEqual(late, [], "calls started before the drain that did not finish OK")
            codes = {r[2] for r in results}
            self.assertLessEqual(codes, {"OK", "UNAVAILABLE", "CANCELLED"}, codes)
            print("SIGTERM -> NOT_SERVING %.3fs, exit 0 after %.2fs; %d calls OK (%d after "
                  "NOT_SERVING), %d UNAVAILABLE, %d CANCELLED at the drain deadline" % (
                      flipped_at - sigterm_at, exited_at - sigterm_at,
                      sum(r[2] == "OK" for r in results), len(served_after_flip),
                      sum(r[2] == "UNAVAILABLE" for r in results),
                      sum(r[2] == "CANCELLED" for r in results)))
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
