--
-- PostgreSQL database dump
--

\restrict 10nW9PR8FvPHvQgzCvi9bdgmwj5ysMRUl1z6SiU6IJFyeNm2T6Lh9UOIlYVpsWe

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: category; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.category (
    id bigint NOT NULL,
    description text NOT NULL
);


--
-- Name: category_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.category_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: category_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.category_id_seq OWNED BY public.category.id;


--
-- Name: child_object; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.child_object (
    id bigint NOT NULL,
    access_code text NOT NULL,
    top_level_object_id bigint NOT NULL,
    related_object_id bigint NOT NULL,
    category_id bigint NOT NULL
);


--
-- Name: child_object_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.child_object_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: child_object_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.child_object_id_seq OWNED BY public.child_object.id;


--
-- Name: commit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.commit_log (
    seq bigint NOT NULL,
    committed_at text NOT NULL,
    changed text NOT NULL
);


--
-- Name: idempotency_key; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_key (
    key text NOT NULL,
    request_hash text NOT NULL,
    id bigint NOT NULL,
    seq bigint NOT NULL,
    created_at text NOT NULL
);


--
-- Name: related_object; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.related_object (
    id bigint NOT NULL,
    content_description text NOT NULL,
    content_type text NOT NULL
);


--
-- Name: related_object_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.related_object_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: related_object_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.related_object_id_seq OWNED BY public.related_object.id;


--
-- Name: schema_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_version (
    version integer NOT NULL
);


--
-- Name: top_level_object; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.top_level_object (
    id bigint NOT NULL,
    name text NOT NULL
);


--
-- Name: top_level_object_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.top_level_object_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: top_level_object_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.top_level_object_id_seq OWNED BY public.top_level_object.id;


--
-- Name: category id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.category ALTER COLUMN id SET DEFAULT nextval('public.category_id_seq'::regclass);


--
-- Name: child_object id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.child_object ALTER COLUMN id SET DEFAULT nextval('public.child_object_id_seq'::regclass);


--
-- Name: related_object id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.related_object ALTER COLUMN id SET DEFAULT nextval('public.related_object_id_seq'::regclass);


--
-- Name: top_level_object id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.top_level_object ALTER COLUMN id SET DEFAULT nextval('public.top_level_object_id_seq'::regclass);


--
-- Data for Name: category; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.category VALUES (1, 'Books');
INSERT INTO public.category VALUES (2, 'Music');


--
-- Data for Name: child_object; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.child_object VALUES (2, 'b2', 2, 2, 2);
INSERT INTO public.child_object VALUES (1, 'a9', 1, 2, 1);


--
-- Data for Name: commit_log; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.commit_log VALUES (1, '2026-12-06T00:20:21.321Z', 'category:1');
INSERT INTO public.commit_log VALUES (2, '2026-12-06T00:20:21.330Z', 'category:2');
INSERT INTO public.commit_log VALUES (3, '2026-12-06T00:20:21.340Z', 'related_object:1');
INSERT INTO public.commit_log VALUES (4, '2026-12-06T00:20:21.349Z', 'related_object:2');
INSERT INTO public.commit_log VALUES (5, '2026-12-06T00:20:21.360Z', 'top_level_object:1 child_object:1');
INSERT INTO public.commit_log VALUES (6, '2026-12-06T00:20:21.371Z', 'top_level_object:2 child_object:2');
INSERT INTO public.commit_log VALUES (7, '2026-12-06T00:20:21.381Z', 'top_level_object:3 child_object:3');
INSERT INTO public.commit_log VALUES (8, '2026-12-06T00:20:21.393Z', 'top_level_object:1 child_object:1');
INSERT INTO public.commit_log VALUES (9, '2026-12-06T00:20:21.406Z', 'top_level_object:3 child_object:3');


--
-- Data for Name: idempotency_key; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.idempotency_key VALUES ('make-old-db-2', 'ec229ac07f19e13b5fe1dd33b8aef2441a3117ef85a6d6e7a4055ebbe6917415', 2, 6, '2026-12-06T00:20:21.370Z');


--
-- Data for Name: related_object; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.related_object VALUES (1, 'A novel', 'text/plain');
INSERT INTO public.related_object VALUES (2, 'An album', 'audio/flac');


--
-- Data for Name: schema_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_version VALUES (2);


--
-- Data for Name: top_level_object; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.top_level_object VALUES (2, 'second');
INSERT INTO public.top_level_object VALUES (1, 'first, renamed');


--
-- Name: category_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.category_id_seq', 2, true);


--
-- Name: child_object_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.child_object_id_seq', 3, true);


--
-- Name: related_object_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.related_object_id_seq', 2, true);


--
-- Name: top_level_object_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.top_level_object_id_seq', 3, true);


--
-- Name: category category_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.category
    ADD CONSTRAINT category_pkey PRIMARY KEY (id);


--
-- Name: child_object child_object_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.child_object
    ADD CONSTRAINT child_object_pkey PRIMARY KEY (id);


--
-- Name: child_object child_object_top_level_object_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.child_object
    ADD CONSTRAINT child_object_top_level_object_id_key UNIQUE (top_level_object_id);


--
-- Name: commit_log commit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.commit_log
    ADD CONSTRAINT commit_log_pkey PRIMARY KEY (seq);


--
-- Name: idempotency_key idempotency_key_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_key
    ADD CONSTRAINT idempotency_key_pkey PRIMARY KEY (key);


--
-- Name: related_object related_object_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.related_object
    ADD CONSTRAINT related_object_pkey PRIMARY KEY (id);


--
-- Name: top_level_object top_level_object_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.top_level_object
    ADD CONSTRAINT top_level_object_pkey PRIMARY KEY (id);


--
-- Name: child_object_category_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX child_object_category_id ON public.child_object USING btree (category_id);


--
-- Name: child_object_related_object_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX child_object_related_object_id ON public.child_object USING btree (related_object_id);


--
-- Name: idempotency_key_created_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idempotency_key_created_at ON public.idempotency_key USING btree (created_at);


--
-- Name: child_object child_object_category_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.child_object
    ADD CONSTRAINT child_object_category_id_fkey FOREIGN KEY (category_id) REFERENCES public.category(id);


--
-- Name: child_object child_object_related_object_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.child_object
    ADD CONSTRAINT child_object_related_object_id_fkey FOREIGN KEY (related_object_id) REFERENCES public.related_object(id);


--
-- Name: child_object child_object_top_level_object_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.child_object
    ADD CONSTRAINT child_object_top_level_object_id_fkey FOREIGN KEY (top_level_object_id) REFERENCES public.top_level_object(id);


--
-- PostgreSQL database dump complete
--

\unrestrict 10nW9PR8FvPHvQgzCvi9bdgmwj5ysMRUl1z6SiU6IJFyeNm2T6Lh9UOIlYVpsWe

