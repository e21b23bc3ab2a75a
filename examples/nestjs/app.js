// A NestJS app on @nestjs/platform-express, served by Gatehouse. Nest builds its routes on an
// Express app we create and hand it (new ExpressAdapter(server)); `app.init()` instead of
// `app.listen()` wires them without opening a socket, and the Express app is what we export.
// Gatehouse serves it as a node:http listener, in every prefork worker and app thread alike.
//
// Decorators are applied as the functions they are (Controller()(Class), Get()(prototype,
// name, descriptor)), so this file runs on Node as it is, with no TypeScript build step. With
// TypeScript and experimentalDecorators the same classes are written with @Controller, @Get...
//   GET  /                 text
//   GET  /users/:id        JSON from an injected service (404 JSON for an unknown id)
//   POST /users            JSON body in (Nest's body parser), 201 JSON out; 400 without a name
//   anything else          Nest's own 404 JSON
import 'reflect-metadata';
import express from 'express';
import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Injectable, Module, NotFoundException, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';

class UsersService {
  #users = new Map([['1', { id: '1', name: 'Ada' }], ['2', { id: '2', name: 'Grace' }]]);

  find(id) {
    return this.#users.get(id);
  }

  add(name) {
    const user = { id: String(this.#users.size + 1), name };
    this.#users.set(user.id, user);
    return user;
  }
}
Injectable()(UsersService);

class UsersController {
  constructor(users) {
    this.users = users;
  }

  hello() {
    return 'Hello from NestJS';
  }

  findOne(id) {
    const user = this.users.find(id);
    if (!user) throw new NotFoundException('no such user');
    return user;
  }

  create(body) {
    if (typeof body?.name !== 'string') throw new BadRequestException('name is required');
    return this.users.add(body.name);
  }
}
// What `constructor(@Inject(UsersService) users)`, `@Get()`, `@Param('id')`... would do.
Inject(UsersService)(UsersController, undefined, 0);
method(UsersController, 'hello', Get());
method(UsersController, 'findOne', Get('users/:id'));
Param('id')(UsersController.prototype, 'findOne', 0);
method(UsersController, 'create', Post('users'), HttpCode(201));
Body()(UsersController.prototype, 'create', 0);
Controller()(UsersController);

class AppModule {}
Module({ controllers: [UsersController], providers: [UsersService] })(AppModule);

function method(target, name, ...decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, name);
  for (const decorate of decorators) decorate(target.prototype, name, descriptor);
}

const server = express();
const nest = await NestFactory.create(AppModule, new ExpressAdapter(server), { logger: ['error', 'warn'] });
// Instead of: await nest.listen(3000)
await nest.init();

export default server;

/** Runs once per worker process or app thread when it stops: Nest's onModuleDestroy hooks and the like. */
export async function shutdown() {
  await nest.close();
}
