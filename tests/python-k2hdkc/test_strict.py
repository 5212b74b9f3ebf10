"""The PyPI `k2hdkc` 1.0.1 binding (ctypes) through our libk2hdkc and cluster, with exact checks.

Ours, not from k2hdkc_python: its own tests (test_k2hdkc.py here) mostly call
`assertTrue(x, y)`, which checks only that x is true. These check the values the binding hands
back, through the same slave configuration (/tmp/slave.yaml, control port 8031, made by
tests/k2hdkc/bindings-cluster.sh). Methods of the binding that cannot work whatever the library
does are left out: `set(subkeys=...)` and `set_subkeys` index a list by its strings (TypeError),
`remove_subkeys` calls a function declared with 6 argument types with 4 (ctypes raises).
"""
import time
import unittest
from struct import pack

import k2hdkc

CONF = "/tmp/slave.yaml"


class TestStrict(unittest.TestCase):
    def setUp(self):
        self.db = k2hdkc.K2hdkc(CONF)

    def tearDown(self):
        self.assertTrue(self.db.close())

    def test_values(self):
        db = self.db
        self.assertTrue(db.set("strict_key", "value one"))
        self.assertEqual(db.get("strict_key"), "value one")
        self.assertTrue(db.set("strict_key", "value two"))
        self.assertEqual(db.get("strict_key"), "value two")
        self.assertEqual(db.get("strict_missing"), "")
        self.assertTrue(db.remove("strict_key"))
        self.assertEqual(db.get("strict_key"), "")
        # removing a missing key succeeds, as the original
        self.assertTrue(db.remove("strict_key"))

    def test_other_handle_sees_the_value(self):
        self.assertTrue(self.db.set("strict_shared", "from one handle"))
        other = k2hdkc.K2hdkc(CONF)
        try:
            self.assertEqual(other.get("strict_shared"), "from one handle")
        finally:
            self.assertTrue(other.close())

    def test_pass_phrase(self):
        db = self.db
        self.assertTrue(db.set("strict_secret", "hidden", password="pw"))
        self.assertEqual(db.get("strict_secret", password="pw"), "hidden")
        self.assertEqual(db.get("strict_secret"), "")
        self.assertEqual(db.get("strict_secret", password="other"), "")

    def test_expire(self):
        db = self.db
        self.assertTrue(db.set("strict_expiring", "soon gone", expire_duration=1))
        self.assertEqual(db.get("strict_expiring"), "soon gone")
        time.sleep(2.1)
        self.assertEqual(db.get("strict_expiring"), "")

    def test_subkeys(self):
        db = self.db
        self.assertTrue(db.set("strict_parent", "p"))
        self.assertEqual(db.get_subkeys("strict_parent"), [])
        self.assertTrue(db.add_subkey("strict_parent", "strict_child1", "c1"))
        self.assertTrue(db.add_subkey("strict_parent", "strict_child2", "c2"))
        self.assertEqual(sorted(db.get_subkeys("strict_parent")), ["strict_child1", "strict_child2"])
        self.assertEqual(db.get("strict_child1"), "c1")
        self.assertEqual(db.get("strict_child2"), "c2")
        self.assertEqual(db.get("strict_parent"), "p")
        self.assertTrue(db.clear_subkeys("strict_parent"))
        self.assertEqual(db.get_subkeys("strict_parent"), [])
        self.assertEqual(db.get("strict_parent"), "p")

    def test_queue_fifo_and_lifo(self):
        db = self.db
        for v in ("q1", "q2", "q3"):
            self.assertTrue(db.queue_put("strict_fifo", v))
        self.assertEqual([db.queue_get("strict_fifo") for _ in range(3)], ["q1", "q2", "q3"])
        self.assertEqual(db.queue_get("strict_fifo"), "")
        for v in ("l1", "l2", "l3"):
            self.assertTrue(db.queue_put("strict_lifo", v, is_fifo=False))
        self.assertEqual(
            [db.queue_get("strict_lifo", is_fifo=False) for _ in range(3)], ["l3", "l2", "l1"]
        )
        self.assertEqual(db.queue_get("strict_lifo", is_fifo=False), "")

    def test_key_queue(self):
        db = self.db
        self.assertTrue(db.keyqueue_put("strict_kq", "strict_kq_k1", "v1"))
        self.assertTrue(db.keyqueue_put("strict_kq", "strict_kq_k2", "v2"))
        self.assertEqual(db.keyqueue_get("strict_kq"), {"strict_kq_k1": "v1"})
        self.assertEqual(db.keyqueue_get("strict_kq"), {"strict_kq_k2": "v2"})
        self.assertEqual(db.keyqueue_get("strict_kq"), {})

    def test_rename(self):
        db = self.db
        self.assertTrue(db.set("strict_old", "moving"))
        self.assertTrue(db.rename("strict_old", "strict_new"))
        self.assertEqual(db.get("strict_new"), "moving")
        self.assertEqual(db.get("strict_old"), "")

    def test_rename_with_parent(self):
        db = self.db
        self.assertTrue(db.set("strict_rparent", "p"))
        self.assertTrue(db.add_subkey("strict_rparent", "strict_rold", "child"))
        self.assertTrue(db.rename("strict_rold", "strict_rnew", parent_key="strict_rparent"))
        self.assertEqual(db.get_subkeys("strict_rparent"), ["strict_rnew"])
        self.assertEqual(db.get("strict_rnew"), "child")
        self.assertEqual(db.get("strict_rold"), "")

    def test_cas_every_size(self):
        db = self.db
        for fmt, dtype, start in (
            ("B", k2hdkc.DataType.U_BYTE, 250),
            ("H", k2hdkc.DataType.U_SHORT, 65530),
            ("I", k2hdkc.DataType.U_INT32, 4000000000),
            ("Q", k2hdkc.DataType.U_LONGLONG, 2**63 + 5),
        ):
            with self.subTest(fmt=fmt):
                key = "strict_cas_" + fmt
                self.assertTrue(db.cas_init(key, pack(fmt, start)))
                self.assertEqual(db.cas_get(key, dtype), start)
                self.assertTrue(db.cas_increment(key))
                self.assertEqual(db.cas_get(key, dtype), start + 1)
                self.assertTrue(db.cas_decrement(key))
                self.assertTrue(db.cas_decrement(key))
                self.assertEqual(db.cas_get(key, dtype), start - 1)
                self.assertTrue(db.cas_set(key, pack(fmt, start - 1), pack(fmt, 7)))
                self.assertEqual(db.cas_get(key, dtype), 7)
                # a wrong old value changes nothing (the call itself succeeds: the answer came)
                db.cas_set(key, pack(fmt, 8), pack(fmt, 9))
                self.assertEqual(db.cas_get(key, dtype), 7)


if __name__ == "__main__":
    unittest.main()
