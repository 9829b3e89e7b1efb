"""Tests of server/chat: REST, Socket.IO, consent, limits, rooms, live servers."""
