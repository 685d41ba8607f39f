# A stand-in for _test_multiprocessing.py: what the parser must and must not
# take for a test method.
import unittest


class _TestThing(unittest.TestCase):
    def setUp(self):
        pass

    def test_one(self):
        def test_nested():  # a function inside a test is not one
            pass

    # def test_commented(self):

    SOURCE = """
    def test_in_a_string(self):
        pass
    """

    async def test_async(self):
        pass

    def test_one(self):  # redefined: unittest runs this one, listed once
        pass


def test_module_level():
    pass


class OtherTest(unittest.TestCase):
    @unittest.skipIf(True, "decorated")
    def test_two(self):
        class Inner(unittest.TestCase):
            def test_inner(self):
                pass

    def helper_test(self):
        pass
