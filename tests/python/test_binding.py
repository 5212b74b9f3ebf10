"""The PyPI `k2hash` 1.0.1 binding (ctypes) against our libk2hash.so.1, with strict checks."""
import os
import tempfile
import unittest

import k2hash


class TestBinding(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        os.environ["K2H_LOCKDIR"] = self.dir.name
        self.db = k2hash.K2hash()

    def tearDown(self):
        self.db.close()
        self.dir.cleanup()

    def test_values_subkeys_attributes(self):
        db = self.db
        self.assertTrue(db.set("hello", "world"))
        self.assertEqual(db.get("hello"), "world")
        self.assertEqual(db.get("missing"), "")
        self.assertTrue(db.add_subkey("hello", "sub1", "v1"))
        self.assertTrue(db.add_subkey("hello", "sub0", "v0"))
        self.assertEqual(db.get_subkeys("hello"), ["sub0", "sub1"])
        self.assertEqual(db.get("sub1"), "v1")
        self.assertTrue(db.set_attribute("hello", "color", "blue"))
        self.assertEqual(db.get_attributes("hello"), {"color": "blue"})
        self.assertTrue(db.rename("sub1", "sub9"))
        self.assertEqual(db.get("sub9"), "v1")
        self.assertTrue(db.remove("hello", remove_all_subkeys=True))
        self.assertEqual(db.get("hello"), "")
        self.assertEqual(db.get("sub0"), "")

    def test_encryption_and_history(self):
        db = self.db
        self.assertTrue(db.set("secret", "value", password="pw"))
        self.assertEqual(db.get("secret"), "")
        self.assertEqual(db.get("secret", password="pw"), "value")
        self.assertTrue(db.add_decryption_password("pw"))
        self.assertEqual(db.get("secret"), "value")
        # a pass phrase added for decryption only is no default one: enabling encryption
        # fails, as with the original library
        self.assertFalse(db.enable_encryption(True))

    def test_bool_results_read_as_int(self):
        # set_tx_pool_size reads a bool function's result as an int: exactly 1, as the original
        self.assertEqual(k2hash.K2hash.set_tx_pool_size(1), 1)
        self.assertEqual(k2hash.K2hash.set_tx_pool_size(0), 1)

    def test_queue_fifo_lifo(self):
        q = k2hash.Queue(self.db, True, "PYQ")
        self.assertTrue(q.empty())
        for v in ("a", "b", "c"):
            self.assertTrue(q.put(v))
        self.assertEqual(q.qsize(), 3)
        self.assertEqual(q.element(0), "a")
        self.assertEqual(q.get(), "a")
        self.assertEqual(q.get(), "b")
        self.assertTrue(q.remove(1))
        self.assertTrue(q.empty())
        # binding quirk: Queue.__init__ passes fifo=True and prefix=None to its base class, so
        # every Queue is a FIFO on the default prefix whatever the arguments
        lq = k2hash.Queue(self.db, False, "PYL")
        lq.put("x")
        lq.put("y")
        self.assertEqual(lq.qsize(), 2)
        self.assertEqual(lq.get(), "x")
        self.assertEqual(lq.get(), "y")
        q.close()
        lq.close()

    def test_keyqueue(self):
        kq = k2hash.KeyQueue(self.db, True, "PYKQ")
        self.assertTrue(kq.put({"k1": "v1"}))
        self.assertTrue(kq.put({"k2": "v2"}))
        self.assertEqual(kq.qsize(), 2)
        self.assertEqual(self.db.get("k1"), "v1")
        self.assertEqual(kq.element(0), {"k1": "v1"})
        self.assertEqual(kq.get(), {"k1": "v1"})
        self.assertEqual(self.db.get("k1"), "")
        self.assertTrue(kq.clear())
        self.assertTrue(kq.empty())
        self.assertEqual(self.db.get("k2"), "")
        kq.close()

    def test_transactions_and_archives(self):
        db = self.db
        log = os.path.join(self.dir.name, "tx.log")
        self.assertEqual(k2hash.K2hash.get_tx_pool_size(), 0)
        self.assertTrue(db.begin_tx(log))
        self.assertGreaterEqual(db.get_tx_file_fd(), 0)
        db.set("t1", "v1")
        db.set("t2", "v2")
        self.assertTrue(db.stop_tx())
        self.assertEqual(db.get_tx_file_fd(), -1)
        # two SET_ALL records: 104 + key + value bytes each (NULs included)
        self.assertEqual(os.path.getsize(log), (104 + 3 + 3) * 2)
        other = k2hash.K2hash()
        self.assertTrue(other.load_from_file(log))
        self.assertEqual(other.get("t2"), "v2")
        archive = os.path.join(self.dir.name, "a.ar")
        self.assertTrue(db.dump_to_file(archive))
        third = k2hash.K2hash()
        self.assertTrue(third.load_from_file(archive))
        self.assertEqual(third.get("t1"), "v1")
        other.close()
        third.close()

    def test_file_mode(self):
        path = os.path.join(self.dir.name, "f.k2h")
        # the binding opens read-only by default: a missing file cannot be created that way
        with self.assertRaises(RuntimeError):
            k2hash.K2hash(path)
        f = k2hash.K2hash(path, flag=k2hash.OpenFlag.EDIT)
        self.assertTrue(f.set("persist", "yes"))
        f.close()
        g = k2hash.K2hash(path, flag=k2hash.OpenFlag.READ)
        self.assertEqual(g.get("persist"), "yes")
        self.assertFalse(g.set("persist", "no"))
        g.close()


if __name__ == "__main__":
    unittest.main()
